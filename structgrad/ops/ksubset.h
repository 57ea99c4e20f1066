// Differentiable operators over k-subsets of n items, x in {0,1}^n with sum x = k, batched
// over the leading dimensions of z: (*batch, n).
//
// Regularized top-k (seed 000, "subset top-k"): x(z) = argmax_{x in conv} <z, x> - Omega(x) over
// the capped simplex {x in [0,1]^n, sum x = k}. Each solution has the form x_i = h(z_i - nu)
// with one threshold nu per row:
//   "euclidean"           Omega = ||x||^2 / 2              h(t) = clip(t, 0, 1)
//   "categorical_entropy" Omega = sum x log x              h(t) = min(1, exp(t))
//   "binary_entropy"      Omega = sum x log x + (1-x) log(1-x)   h(t) = sigmoid(t)
// The euclidean one is the projection of z, exact in one sort-based pass
// (solvers/capped_simplex.h). So is the categorical entropy's nu (exact after one sort); the
// binary entropy's is found by safeguarded Newton.
// Their Jacobians share one closed form, grad_z = w * (g - <w, g> / sum w), with
// w = [0 < x < 1], [x < 1] x, x (1 - x) respectively: it depends on nu only through x, so the
// search is never differentiated. regularized_topk_unrolled is the alternative for the
// entropies, whose threshold solves a smooth equation: autograd through Newton steps on it.
//
// E.F. entropy top-k ("exponential_family"): the Gibbs distribution p(S) ∝ exp(sum_{i in S} z_i)
// over k-subsets. log Z and the marginals come from an O(nk) dynamic program over prefixes and
// suffixes; the marginals' backward (the covariance times g) is a second O(nk) pass in the
// expectation semiring, so nothing is stored per iteration. Each row runs in linear space on
// weights shifted by its k-th largest logit where no table entry can overflow (one
// multiply-add per cell: 20x the composed-ops DP under autograd, bench/topk_bench.cpp), in log
// space otherwise, so everything stays finite for logits of any magnitude.
//
// Correlated subsets (seed 000's correlated top-k, solvers/correlated_subset.h): z is (*batch,
// 2n - 1), n item scores then the scores of the n - 1 adjacent pairs, and the Gibbs distribution
// over k-subsets with their adjacent-pair indicators has its own O(nk) DP, in log space; its
// marginals' backward is the same DP carrying derivatives along g.
//
//   at::Tensor mu = structgrad::ops::ksubset_marginals(z, 3);   // (B, n), rows sum to 3
//   at::Tensor x  = structgrad::ops::regularized_topk(z, 3, "euclidean");
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace structgrad::ops {

// log sum_{|S| = k} exp(sum_{i in S} z_i): (*batch). Differentiable twice (backward: marginals).
at::Tensor ksubset_log_partition(const at::Tensor& z, int64_t k);

// P(i in S) under the Gibbs distribution: (*batch, n). Differentiable (hand-written backward).
at::Tensor ksubset_marginals(const at::Tensor& z, int64_t k);

// The regularized argmax over the capped simplex, one of "euclidean", "categorical_entropy",
// "binary_entropy": (*batch, n). Differentiable (hand-written backward).
at::Tensor regularized_topk(const at::Tensor& z, int64_t k, const std::string& regularizer);

// The same argmax for "categorical_entropy" or "binary_entropy" (anything else raises
// ValueError), differentiable by autograd instead: nu from the search without gradient, then
// three Newton steps nu <- nu + (sum h(z - nu) - k) / sum w as torch ops, and x = h(z - nu)
// from the last. Its gradient equals the hand-written one to rounding, since one Newton step
// from the root has the implicit derivative; memory: a few (*batch, n) tensors per step.
at::Tensor regularized_topk_unrolled(const at::Tensor& z, int64_t k, const std::string& regularizer);

// The correlated-subset verbs on z (*batch, 2n - 1), 0 <= k <= n: log Z (*batch, differentiable
// twice), the marginals of all 2n - 1 coordinates (differentiable, hand-written backward), and
// the highest-scoring structure (not differentiable).
at::Tensor correlated_subset_log_partition(const at::Tensor& z, int64_t k);
at::Tensor correlated_subset_marginals(const at::Tensor& z, int64_t k);
at::Tensor correlated_subset_map(const at::Tensor& z, int64_t k);

}  // namespace structgrad::ops
