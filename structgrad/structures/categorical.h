// The categorical family: one of n categories, as a one-hot vector.
//
// Shapes: theta is (*batch, n) logits; structures are (*batch, n) one-hot indicators of
// theta's dtype. Every verb of docs/DESIGN.md is here; it is the template later families follow.
//
//   auto theta = torch::randn({4, 10});
//   auto gen = at::detail::createCPUGenerator(0);
//   at::Tensor x = structgrad::categorical::sample(theta, gen);          // Gumbel-max
//   at::Tensor y = structgrad::categorical::relax(theta, 0.5, "entropy"); // Gumbel-softmax
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "structgrad/structures/family.h"

namespace structgrad::categorical {

// argmax_i theta_i as a one-hot vector.
at::Tensor map(const at::Tensor& theta);

// Gumbel-max: map(theta + G), G i.i.d. Gumbel(0, 1). Distributed as softmax(theta); the same
// law (and, for the same generator state, the same draw) as the Exponential-Min form of trace.
at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);

// The stochastic softmax trick: the regularized argmax of (theta + G) / tau.
//   regularizer "entropy":   softmax   (Gumbel-softmax / Concrete)
//   regularizer "euclidean": sparsemax (closed-form backward)
// hard = true returns sample's one-hot forward with the relaxed gradient backward. backward
// "custom" (the hand-written one) or "finite_difference" (structures/relaxation.h).
at::Tensor relax(const at::Tensor& theta, double tau, const std::string& regularizer = "entropy",
                 bool hard = false, GeneratorOpt generator = c10::nullopt,
                 const std::string& backward = "custom");

// relax on given perturbed scores (no noise drawn), e.g. from conditional_gumbel: (*batch, n).
at::Tensor relax_perturbed(const at::Tensor& perturbed, double tau, const std::string& regularizer = "entropy",
                           const std::string& backward = "custom");

// log sum_i exp(theta_i): (*batch).
at::Tensor log_partition(const at::Tensor& theta);

// softmax(theta): P(x_i = 1) under the Gibbs distribution p(x) ∝ exp(<theta, x>), (*batch, n).
at::Tensor marginals(const at::Tensor& theta);

// log P(sample == x) for one-hot x broadcastable to theta: returns x's batch shape.
at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x);

// All n one-hot vectors: (n, n).
at::Tensor enumerate(int64_t n, const at::TensorOptions& options = at::kDouble);

// Recursive Gumbel-Max with one step: E_i ~ Exp(exp(theta_i)), the trace is argmin_i E_i
// (shape (*batch, 1)), lengths are all 1.
Trace trace(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);

// log P(trace) = log softmax(theta)[trace], differentiable in theta: (*batch).
at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace);

// A sample of the perturbed scores theta + G (the -log E scale) given that the trace (the
// argmax) is `trace`: the maximum is logsumexp(theta) + Gumbel, the others Gumbels truncated
// below it. Differentiable in theta (reparameterized), as RELAX needs. (*batch, n).
at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace,
                              GeneratorOpt generator = c10::nullopt);

Family family();

}  // namespace structgrad::categorical
