// The Bernoulli family: n independent binary choices, z in {0,1}^n, P(z_i = 1) = sigmoid(theta_i).
// The binary latent of seed 003's experiments and of ARM; the pairwise-free case of
// structgrad::pairwise_binary.
//
// Shapes: theta is (*batch, n) logits; structures are (*batch, n) 0/1 vectors of theta's dtype.
// Perturb-and-MAP adds a Gumbel to each value of every choice, i.e. a logistic L to theta_i.
//
//   auto z = structgrad::bernoulli::sample(theta, gen);            // 1[theta + L > 0]
//   auto y = structgrad::bernoulli::relax(theta, 0.5);             // binary Concrete
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

// Every z in {0,1}^n: (2^n, n). n <= 16.
at::Tensor enumerate(int64_t n, const at::TensorOptions& options = at::kDouble);

Family family();

}  // namespace structgrad::bernoulli
