// The correlated k-subset family ("correlated_topk", seed 000 "k-subset Selection"): k of n
// items together with the indicators of their adjacent selected pairs, so that a model can
// score contiguous runs (the best row of seed 000's L2X table).
//
// Shapes: a structure is z in {0,1}^(2n-1): z_0..z_(n-1) select k items and z_(n+i) = z_i z_(i+1)
// for i < n - 1. theta is (*batch, 2n - 1): n item scores, then the n - 1 adjacent-pair scores; a
// structure scores <theta, z>. 0 <= k <= n.
//
//   auto z = structgrad::correlated_topk::sample(theta, 5, gen);   // map(theta + G)
//   auto y = structgrad::correlated_topk::relax(theta, 5, 0.5);    // marginals((theta + G) / 0.5)
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "structgrad/structures/family.h"

namespace structgrad::correlated_topk {

// The highest-scoring structure: a dynamic program over (item, count, previous item selected),
// O(nk).
at::Tensor map(const at::Tensor& theta, int64_t k);

// Perturb-and-MAP: map(theta + G), one Gumbel per coordinate of theta (items and pairs). Its law
// is not the Gibbs distribution and has no tractable probability, so the family has no log_prob.
at::Tensor sample(const at::Tensor& theta, int64_t k, GeneratorOpt generator = c10::nullopt);

// The stochastic softmax trick: the exponential-family relaxation, marginals((theta + G) / tau)
// of the Gibbs distribution p(z) ∝ exp(<z, theta>) (regularizer "exponential_family", the only
// one). hard = true returns sample's structure of the same noise forward. backward: "custom" (the
// marginals' hand-written backward, Cov(z) g) or "finite_difference".
at::Tensor relax(const at::Tensor& theta, int64_t k, double tau, const std::string& regularizer = "exponential_family",
                 bool hard = false, GeneratorOpt generator = c10::nullopt, const std::string& backward = "custom");

// The relaxation of given perturbed scores (relax without the noise): the same arguments and
// checks.
at::Tensor relax_perturbed(const at::Tensor& perturbed, int64_t k, double tau,
                           const std::string& regularizer = "exponential_family", const std::string& backward = "custom");

// log sum_z exp(<theta, z>) over the structures: (*batch). Log space: finite at any logits.
at::Tensor log_partition(const at::Tensor& theta, int64_t k);

// E[z] under the Gibbs distribution, all 2n - 1 coordinates: (*batch, 2n - 1). The items' rows
// sum to k.
at::Tensor marginals(const at::Tensor& theta, int64_t k);

// An exact sample of that Gibbs distribution (not sample's law): backward sampling through
// log_partition's dynamic program, O(nk). (*batch, 2n - 1).
at::Tensor gibbs_sample(const at::Tensor& theta, int64_t k, GeneratorOpt generator = c10::nullopt);

// Every structure over n items with k selected: (C(n, k), 2n - 1).
at::Tensor enumerate(int64_t n, int64_t k, const at::TensorOptions& options = at::kDouble);

Family family(int64_t k);

}  // namespace structgrad::correlated_topk
