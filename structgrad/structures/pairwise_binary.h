// The pairwise-binary family (seed 003 §4.1): z in {0,1}^n scored by unaries and pairwise
// interactions, the structured encoder of direct optimization,
//   score(z) = sum_i h_i z_i + sum_{i<j} a_ij z_i z_j.
//
// Shapes: h is (*batch, n); a is (*batch, n, n) symmetric (each pair's weight in both triangles,
// scored once; the diagonal ignored); structures are (*batch, n) 0/1 vectors of h's dtype.
//
// MAP solvers (solver=): "max_flow" (Boykov-Kolmogorov min cut; needs every a_ij >= 0, i.e. a
// supermodular score), "integer_program" (CBC on the linearized program, any a, with a time
// limit per instance, kDefaultTimeLimitSeconds unless given), "enumeration" (n <= 20), "auto"
// (enumeration for n <= 16, max-flow when supermodular, CBC otherwise).
//
//   auto z = structgrad::pairwise_binary::map(h, a);                        // (B, n)
//   auto x = structgrad::pairwise_binary::sample(h, a, /*pairwise_noise=*/true, gen);
#pragma once

#include <ATen/ATen.h>

#include <limits>
#include <string>

#include "structgrad/core/noise.h"

namespace structgrad::pairwise_binary {

// CBC's default budget per instance, so that no call runs unbounded (CBC took 5 to 10 s per
// instance at n = 30 and did not finish at n = 200). At the limit map and sample raise, and
// map_with_status returns CBC's best solution with status 1. Infinity: no limit.
inline constexpr double kDefaultTimeLimitSeconds = 60;

struct MapOptions {
  std::string solver = "auto";
  double time_limit_seconds = kDefaultTimeLimitSeconds;  // per instance, for "integer_program"
};

// The MAP with every instance's solver status: 0 optimal, 1 time limit (z is CBC's best
// solution), 2 solver error (z is the best solution known).
struct MapResult {
  at::Tensor z;       // (*batch, n)
  at::Tensor status;  // (*batch) int64
};

// The highest-scoring z. Raises ValueError when CBC hits the time limit or fails on an instance
// (map_with_status returns those solutions with their status instead), and when "max_flow" is
// forced on a negative a_ij.
at::Tensor map(const at::Tensor& h, const at::Tensor& a, const MapOptions& options = {});
MapResult map_with_status(const at::Tensor& h, const at::Tensor& a, const MapOptions& options = {});

// Checks h (*batch, n) and a (*batch, n, n): finite, a symmetric, shapes matching; errors name
// `function`.
void check_potentials(const char* function, const at::Tensor& h, const at::Tensor& a);

// The perturbation of `sample`: h + L and a + L' with L a logistic per unary choice and, with
// pairwise_noise, L' one logistic per pair (mirrored, so a + L' stays symmetric), else 0.
struct Perturbed {
  at::Tensor h, a;
};
Perturbed perturb(const at::Tensor& h, const at::Tensor& a, bool pairwise_noise = true,
                  GeneratorOpt generator = c10::nullopt);

// Perturb-and-MAP: two Gumbels for every unary choice z_i in {0, 1} (h_i + a logistic) and, with
// pairwise_noise, two for every pairwise choice z_i z_j in {0, 1} (a_ij + a logistic). Pairwise
// noise can make some a_ij negative, so a supermodular a may then need CBC or enumeration.
at::Tensor sample(const at::Tensor& h, const at::Tensor& a, bool pairwise_noise = true,
                  GeneratorOpt generator = c10::nullopt, const MapOptions& options = {});

// score(z) for z (*, *batch, n): (*, *batch), differentiable in h and a.
at::Tensor score(const at::Tensor& h, const at::Tensor& a, const at::Tensor& z);

// log sum_z exp(score(z)) by enumeration (n <= 16): (*batch), differentiable.
at::Tensor log_partition(const at::Tensor& h, const at::Tensor& a);

// Every z in {0,1}^n: (2^n, n). n <= 16.
at::Tensor enumerate(int64_t n, const at::TensorOptions& options = at::kDouble);

}  // namespace structgrad::pairwise_binary
