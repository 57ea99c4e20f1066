// Regularized argmaxes over the capped simplex {x in [0, 1]^n, sum x = k}, plain C++: the
// Euclidean projection, and the thresholds of the two entropic regularizers.
//
// Problem: given z in R^n and an integer k in [0, n], find
//   x = argmin_x ||x - z||^2  over  {x in [0, 1]^n, sum x = k},
// which is also argmax_x <z, x> - ||x||^2 / 2 (the "euclidean" regularized top-k). Its KKT
// conditions give x_i = clip(z_i - nu, 0, 1) with one threshold nu such that sum x = k.
//
// Algorithm: s(nu) = sum_i clip(z_i - nu, 0, 1) is continuous, piecewise linear and
// non-increasing, with breakpoints at z_i (item i leaves 0) and z_i - 1 (item i reaches 1).
// Sort z once; the two shifted copies are then already sorted and are merged on the fly. Scan
// the breakpoints downwards from max z (where s = 0), tracking s and the slope (the number of
// free items), until s reaches k; s is linear on that segment, so one division gives nu.
// Exact in one pass: no tolerance, no iteration count. O(n log n) time at most, O(n) memory.
//
// Rounding: s is accumulated from the gaps between consecutive breakpoints (never as a sum of
// z's, which would cancel), and x_i is evaluated as (z_i - b) + t for the segment's upper
// breakpoint b and nu = b - t. A free item lies within 1 of b, so z_i - b is exact for large
// |z| (Sterbenz) and x carries rounding errors of order eps, not eps * |z|.
//
// Only the items above z_(k) - 1 can leave 0 (nu is at least that), so only they are sorted:
// O(n) to find them, then O(m log m) for the m found, all n at a high temperature and a few
// at a low one.
//
// Ties need nothing special: equal breakpoints are a segment of length zero. k = 0 gives all
// zeros and k = n all ones. Entries may be -inf (they stay at 0) while at least k are finite;
// none may be NaN or +inf.
//
// Usage:
//   std::vector<double> x(n);
//   double nu = structgrad::solvers::project_onto_capped_simplex(z.data(), n, k, x.data());
//   // x[i] == std::clamp(z[i] - nu, 0.0, 1.0) up to rounding; sum of x == k
#pragma once

#include <cstdint>

namespace structgrad::solvers {

// shifted = z - (the k-th largest entry of z), 1 <= k <= n. Every regularized argmax over the
// capped simplex is invariant to that shift, and after it the entries that decide the result
// (those near the threshold) are small numbers: ties at 1e16, whose shares (1/2, 1/3) are below
// the resolution of z itself, come out exact. Callers shift before they solve.
void shift_by_kth_largest(const double* z, int64_t n, int64_t k, double* shifted);

// Writes the projection of z[0, n) into x[0, n) and returns its threshold nu (for k = 0, max z;
// for k = n, min z - 1: the ends of the thresholds that give the same x).
double project_onto_capped_simplex(const double* z, int64_t n, int64_t k, double* x);

// The threshold nu with sum_i min(1, exp(z_i - nu)) = k (the categorical-entropy regularizer),
// for 0 < k < n, exactly: sort z; with the m largest items saturated at 1, the others sum to
// k - m when nu = log sum_{i >= m} exp(z_(i)) - log(k - m), and the answer is the first m whose
// largest free item stays at or below 1. The tail log-sum-exps are accumulated from the
// smallest item up, each term at most 1. O(n log n).
double categorical_entropy_threshold(const double* z, int64_t n, int64_t k);

// The threshold nu with sum_i sigmoid(z_i - nu) = k (the binary-entropy regularizer), for
// 0 < k < n: safeguarded Newton on the decreasing, smooth sum. It starts between the k-th and
// (k+1)-th largest z, keeps a bracket, and bisects when a step would leave it (far from the
// root, where the slope vanishes); near the root the steps converge quadratically, so a
// handful of O(n) passes reach full precision, where bisection to the last ulp took ~60.
double binary_entropy_threshold(const double* z, int64_t n, int64_t k);

}  // namespace structgrad::solvers
