// The Bernoulli family: n independent binary choices, z in {0,1}^n, P(z_i = 1) = sigmoid(theta_i).
// The binary latent of seed 003's experiments and of ARM; the pairwise-free case of
// structgrad::pairwise_binary.
//
// Shapes: theta is (*batch, n) logits; structures are (*batch, n) 0/1 vectors of theta's dtype.
// Perturb-and-MAP adds a Gumbel to each value of every choice, i.e. a logistic L to theta_i.
//
//   auto z = structgrad::bernoulli::sample(theta, gen);            // 1[theta + L > 0]
//   auto y = structgrad::bernoulli::relax(theta, 0.5);             // binary Concrete
//   auto t = structgrad::bernoulli::trace(theta, gen);              // for RELAX and REBAR
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "structgrad/structures/family.h"

namespace structgrad::bernoulli {

// 1[theta_i > 0].
at::Tensor map(const at::Tensor& theta);

// 1[theta_i + L_i > 0], L_i = G_i1 - G_i0 logistic: Bernoulli(sigmoid(theta_i)).
at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);

// theta + L, the perturbation sample thresholds.
at::Tensor perturb(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);

// The binary Concrete relaxation sigmoid((theta + L) / tau); hard = true: sample's forward.
// backward: "custom" (autograd of the sigmoid) or "finite_difference" (structures/relaxation.h).
at::Tensor relax(const at::Tensor& theta, double tau, bool hard = false, GeneratorOpt generator = c10::nullopt,
                 const std::string& backward = "custom");

// log P(z = x) = sum_i x_i theta_i - softplus(theta_i) for x (*, *batch, n): (*, *batch).
at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x);

// sum_i softplus(theta_i) and sigmoid(theta): the Gibbs distribution is the Bernoulli itself.
at::Tensor log_partition(const at::Tensor& theta);
at::Tensor marginals(const at::Tensor& theta);

// The recursive Gumbel-Max view of n independent choices (seed 002 §3 with one step per choice),
// for the trace estimators and RELAX/REBAR: the trace is the sample itself as int64 0/1
// (*batch, n), every length n, and perturbed = theta + L.
Trace trace(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);

// log P(trace) = sum_i t_i theta_i - softplus(theta_i), differentiable in theta: (*batch).
at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace);

// theta + L given the sample `trace` (REBAR's conditional noise z~): L logistic conditioned on
// the sign of theta_i + L_i being that of the choice, by the inverse CDF,
//   t_i = 1:  theta_i + logit(sigmoid(-theta_i) + v_i sigmoid(theta_i)),
//   t_i = 0:  theta_i + logit(v_i sigmoid(-theta_i)),   v_i ~ U(0, 1),
// in log space, reparameterized (differentiable in theta). (*batch, n).
at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, GeneratorOpt generator = c10::nullopt);

// Every z in {0,1}^n: (2^n, n). n <= 16.
at::Tensor enumerate(int64_t n, const at::TensorOptions& options = at::kDouble);

Family family();

}  // namespace structgrad::bernoulli
