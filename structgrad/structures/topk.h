// The k-subset family ("topk"): k of n items, as a (*batch, n) 0/1 indicator with k ones.
//
// Shapes: theta is (*batch, n) item scores; k in [0, n]. A subset's score is the sum of its
// items' scores.
//
//   auto x = structgrad::topk::sample(theta, 3, gen);                       // Gumbel top-k
//   auto y = structgrad::topk::relax(theta, 3, 0.5, "exponential_family");  // E.F. entropy top-k
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "structgrad/structures/family.h"

namespace structgrad::topk {

// The k highest-scoring items.
at::Tensor map(const at::Tensor& theta, int64_t k);

// Gumbel top-k: map(theta + G). The same law as the Exponential-Min form (the k smallest
// E_i / exp(theta_i)): sampling k items without replacement with probabilities ∝ exp(theta).
at::Tensor sample(const at::Tensor& theta, int64_t k, GeneratorOpt generator = c10::nullopt);

// The stochastic softmax trick over k-subsets: the regularized argmax of (theta + G) / tau over
// {x in [0, 1]^n, sum x = k}, with regularizer
//   "exponential_family"   seed 000's E.F. entropy top-k: the marginals of p(S) ∝ exp(<z, x_S>) (default)
//   "euclidean"            the Euclidean projection (sparse), exact by one sort
//   "categorical_entropy"  x_i = min(1, exp(z_i - nu))
//   "binary_entropy"       x_i = sigmoid(z_i - nu)
// hard = true returns sample's indicator forward with the relaxed gradient backward. backward
// (structures/relaxation.h): "custom" (the hand-written one) or "finite_difference" for every
// regularizer; "unroll" (autograd through Newton steps on the threshold nu) for the two
// entropies, whose threshold solves a smooth equation: the DP has no threshold, and the
// projection's equation is piecewise linear, its Newton step the closed form itself.
at::Tensor relax(const at::Tensor& theta, int64_t k, double tau,
                 const std::string& regularizer = "exponential_family", bool hard = false,
                 GeneratorOpt generator = c10::nullopt, const std::string& backward = "custom");

// The relaxation of given perturbed scores (relax without the noise): (*batch, n), the same
// arguments and checks.
at::Tensor relax_perturbed(const at::Tensor& perturbed, int64_t k, double tau,
                           const std::string& regularizer = "exponential_family", const std::string& backward = "custom");

// log sum_{|S| = k} exp(sum_{i in S} theta_i): (*batch). O(nk) dynamic program.
at::Tensor log_partition(const at::Tensor& theta, int64_t k);

// P(i in S) under p(S) ∝ exp(sum_{i in S} theta_i): (*batch, n), rows sum to k.
at::Tensor marginals(const at::Tensor& theta, int64_t k);

// An exact sample of that Gibbs distribution (not Gumbel top-k's law, which is sample's):
// backward sampling through log_partition's dynamic program, O(nk). (*batch, n).
at::Tensor gibbs_sample(const at::Tensor& theta, int64_t k, GeneratorOpt generator = c10::nullopt);

// log P(sample == x) under Gumbel top-k (not the Gibbs distribution): the sum over the k!
// orders in which the subset can be drawn without replacement. x: (*, *batch, n) with k ones
// per row; k <= 8. Differentiable in theta.
at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x, int64_t k);

// Every k-subset of n items: (C(n, k), n).
at::Tensor enumerate(int64_t n, int64_t k, const at::TensorOptions& options = at::kDouble);

// Recursive Gumbel-Max (seed 002 Alg. 1): E_i ~ Exp(exp(theta_i)); the trace is the k argmins in
// the order drawn, (*batch, k), the structure the subset. The same law as sample.
Trace trace(const at::Tensor& theta, int64_t k, GeneratorOpt generator = c10::nullopt);

// log P(trace) = sum_t theta_{t} - logsumexp(theta of the items not yet drawn), (*batch);
// differentiable. An invalid trace (repeated item, wrong length) raises ValueError.
at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace, int64_t k);

// theta + G = -log E given the trace (seed 002 App. B), (*batch, n), reparameterized.
at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, int64_t k,
                              GeneratorOpt generator = c10::nullopt);

Family family(int64_t k);

}  // namespace structgrad::topk
