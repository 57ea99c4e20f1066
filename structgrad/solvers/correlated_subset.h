// Correlated k-subsets (seed 000, "k-subset Selection"), plain C++: the dynamic programs over
// z in {0,1}^(2n-1) where z_0..z_(n-1) select k of n items and z_(n+i) = z_i z_(i+1) marks that
// items i and i+1 are both selected. A structure's score is <theta, z>: its items' scores plus
// the scores of its adjacent selected pairs, so theta can favour contiguous runs.
//
// Every routine is one pass over (position, count so far, whether the item is selected), in
// O(nk) time:
//   map                 Viterbi (max-sum), ties to the lower item
//   log_partition       the forward table in log space: log sum_z exp(<theta, z>)
//   marginals           forward-backward in log space: E[z] under p(z) ∝ exp(<theta, z>), all
//                       2n-1 coordinates
//   marginals_tangent   d/de marginals(theta + e v) = Cov(z) v, the same forward-backward carrying
//                       each table entry's derivative along v (the expectation semiring). The
//                       covariance is symmetric, so this is also the marginals' backward for an
//                       incoming gradient v.
// Log space keeps every entry finite for logits of any magnitude; entries of theta must be
// finite (callers check). n >= 1 and 0 <= k <= n (callers check).
//
//   std::vector<double> mu(2 * n - 1);
//   structgrad::solvers::correlated_subset_marginals(theta.data(), n, k, mu.data());
#pragma once

#include <cstdint>

namespace structgrad::solvers {

// The number of coordinates of a structure over n items: 2n - 1.
inline int64_t correlated_subset_size(int64_t n) { return 2 * n - 1; }

// The highest-scoring structure, written as 0/1 into x (2n - 1 entries).
void correlated_subset_map(const double* theta, int64_t n, int64_t k, double* x);

double correlated_subset_log_partition(const double* theta, int64_t n, int64_t k);

// E[z] into mu (2n - 1 entries).
void correlated_subset_marginals(const double* theta, int64_t n, int64_t k, double* mu);

// Cov(z) v into out (2n - 1 entries).
void correlated_subset_marginals_tangent(const double* theta, const double* v, int64_t n, int64_t k, double* out);

}  // namespace structgrad::solvers
