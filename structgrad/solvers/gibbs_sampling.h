// Exact samplers of Gibbs distributions p(x) ∝ exp(<theta, x>) over structures, plain C++: one
// instance per call, driven by a seeded random stream so that a batch gives the same draws at
// any thread count.
//
// Arborescences (and, through them, spanning trees) have two exact samplers:
//   Wilson's algorithm: loop-erased random walks that step from v to a parent u with
//     probability ∝ exp(theta[u][v]) until they hit the tree grown so far (initially the root).
//     Fast when the walks are short: O(expected walk steps), about n log n at unit-scale logits.
//   sequential: the parents one vertex at a time, each drawn from its conditional law
//     P(parent(v) = u | the parents drawn so far) = the marginal of u -> v in the graph where every
//     decided vertex keeps only its chosen in-edge, by the log-stable matrix-tree kernel
//     (solvers/matrix_tree.h). O(n^4), and indifferent to the logits' spread.
// Choosing between them by a budget on the walk actually run would bias the sample (a long walk
// is evidence about the tree it erases into), so the choice is made before any draw, from theta
// alone: Wilson's algorithm runs when a bound on its expected number of steps is within
// `wilson_budget(n)`, the sequential sampler otherwise (logits spread to +-50 make the walks
// astronomically long). The bound (Wilson 1996): the expected number of steps is
// sum_{v != root} G(v, v), the expected visits of the walk from v to v before it reaches the root,
// and G(v, v) = 1 / P_v(reach the root before returning) <= 1 / q_v, with q_v the probability of
// the single most likely path from v to the root (a max-product shortest path, O(n^2)).
//
// k-subsets (p(S) ∝ exp(sum_{i in S} theta_i), |S| = k) and correlated k-subsets
// (solvers/correlated_subset.h): backward sampling through the forward table of the same dynamic
// program as log Z, in log space, O(nk).
#pragma once

#include <cstdint>

namespace structgrad::solvers {

// A small, fast, seeded stream (xoshiro256**, seeded through splitmix64).
class RandomStream {
 public:
  explicit RandomStream(uint64_t seed);
  uint64_t next();
  // Uniform in (0, 1): never exactly 0 or 1.
  double uniform();

 private:
  uint64_t state_[4];
};

enum class TreeSampler { kAuto, kWilson, kSequential };

// Parses "auto", "wilson", "sequential"; false for anything else.
bool parse_tree_sampler(const char* name, TreeSampler& sampler);

// The bound on the expected number of walk steps of Wilson's algorithm for the arborescences out
// of `root` of the log-weights theta (row-major n x n, theta[u * n + v] the edge u -> v, -inf: no
// edge; the diagonal and the edges into the root ignored). +inf when some vertex cannot reach
// the root along the walk's steps.
double wilson_step_bound(const double* theta, int64_t n, int64_t root);

// The largest bound for which kAuto runs Wilson's algorithm: as many steps as the sequential
// sampler's O(n^4) work would cost, about.
double wilson_budget(int64_t n);

// An exact sample of p(T) ∝ prod_{v != root} exp(theta[parent(v)][v]) over the arborescences out
// of `root`: parent[v] for every vertex, parent[root] = -1. kAuto chooses as above. The status
// says whether a tree was drawn (ok), else why not: some vertex cannot be reached from the root,
// or kWilson was asked for where the bound exceeds 1e12 steps; `used` is the sampler that ran.
struct TreeSampleStatus {
  bool ok = false;
  bool unreachable = false;
  bool too_slow = false;
  TreeSampler used = TreeSampler::kAuto;
};
TreeSampleStatus gibbs_arborescence(const double* theta, int64_t n, int64_t root, TreeSampler sampler,
                                    RandomStream& random, int64_t* parent);

// An exact sample of p(S) ∝ exp(sum_{i in S} theta_i) over the k-subsets of n items, as 0/1 into x
// (n entries). Entries of theta finite; 0 <= k <= n.
void gibbs_ksubset(const double* theta, int64_t n, int64_t k, RandomStream& random, double* x);

// An exact sample of p(z) ∝ exp(<theta, z>) over the correlated k-subsets (2n - 1 coordinates).
void gibbs_correlated_subset(const double* theta, int64_t n, int64_t k, RandomStream& random, double* x);

}  // namespace structgrad::solvers
