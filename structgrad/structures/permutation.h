// The permutation family: a bijection of n rows onto n columns, as a (*batch, n, n) 0/1
// permutation matrix with P[i, j] = 1 when row i is assigned to column j.
//
// Shapes: theta is (*batch, n, n) pair scores; a permutation scores sum_ij theta_ij P_ij.
// map and sample accept -inf entries as forbidden pairs; relax needs finite scores.
// There is no log_partition, marginals or log_prob: the partition function is a permanent
// (#P-hard), and the perturb-and-MAP law has no known closed form. Estimators that need
// them (exact, reinforce) refuse this family.
//
//   auto x = structgrad::permutation::sample(theta, gen);     // Hungarian on theta + G
//   auto y = structgrad::permutation::relax(theta, 0.5);      // Gumbel-Sinkhorn, 20 iterations
//   auto z = structgrad::permutation::relax(theta, 0.5, 20, 0, "implicit", /*hard=*/true);
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "structgrad/structures/family.h"

namespace structgrad::permutation {

// The highest-scoring permutation, by the Hungarian / Jonker-Volgenant algorithm: O(n^3) per
// instance, instances in parallel. Throws if the finite entries admit no perfect matching.
at::Tensor map(const at::Tensor& theta);

// Perturb-and-MAP: map(theta + G), one Gumbel per entry (n^2 per instance). Not the Gibbs
// distribution p(P) ∝ exp(<theta, P>), and there is no Exponential-Min trace form.
at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);

// Gumbel-Sinkhorn, the stochastic softmax trick with the entropy regularizer: the
// doubly-stochastic ops::sinkhorn((theta + G) / tau, iterations, tolerance, backward), with
// the same noise as sample for the same generator state. backward "implicit" (default: memory
// independent of iterations, exact once converged), "unroll" (the exact gradient of the
// truncated forward) or "finite_difference" (two more forwards; exact once converged). hard = true returns sample's permutation forward with the relaxed
// gradient backward.
at::Tensor relax(const at::Tensor& theta, double tau, int64_t iterations = 20, double tolerance = 0,
                 const std::string& backward = "implicit", bool hard = false,
                 GeneratorOpt generator = c10::nullopt);

// Log-domain Sinkhorn of scores z, no noise: ops::sinkhorn.
at::Tensor sinkhorn(const at::Tensor& z, int64_t iterations = 20, double tolerance = 0,
                    const std::string& backward = "implicit");

// Every permutation matrix of size n, in lexicographic order of the column assignment:
// (n!, n, n). 1 <= n <= 8.
at::Tensor enumerate(int64_t n, const at::TensorOptions& options = at::kDouble);

// As an estimator sees it: relax with the defaults above (regularizer empty or "entropy"),
// and the noise-free Sinkhorn of theta as straight-through's mean.
Family family();

}  // namespace structgrad::permutation
