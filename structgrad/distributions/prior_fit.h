// Prior fitting for relaxations without interpretable parameters (seed 004 Eq. 20): find the
// parameters whose relaxed variable matches a target pmf p0 over categories 0, 1, ..., by
// stochastic optimization (Adam, learning rate decayed linearly to 0, which averages out the
// sampling noise of the last steps).
//
// The induced discrete distribution is estimated as the mean of z (of hard(z) with `hard`,
// straight-through) over a batch of draws, as for the paper's Fig. 2, and the objective is the
// squared distance of that batch mean to p0. (Eq. 20 as printed, E ||z - p0||^2, is minimized
// by a point mass at p0 itself, which no discrete variable resembles.) The discrepancy reported
// is the total variation of the estimate from p0, on eval_samples fresh draws.
//
// A pmf with countably infinite support (Poisson, negative binomial) is given by its first L
// values; the mass 1 - sum(target) beyond them counts in the total variation. Families:
//   "igr"      IGR, K = num_categories; loc starts at 0
//   "igr_sb"   IGRStickBreaking with up to num_categories - 1 sticks, truncated at rho. The
//              truncation gives no gradient to categories past a draw's K, so the start must
//              already reach the target's support: loc_k = init_scale * Phi^{-1}(h_k) with the
//              hazard h_k = p0_k / (1 - sum_{j<k} p0_j), i.e. P(y_k > 0) = h_k, so that the first
//              stick broken almost whole roughly follows p0 (initial_total_variation says how
//              roughly)
//   "concrete" the Gumbel-softmax baseline, K = num_categories logits starting at log p0
//              (its interpretable parameters)
// The scales start at init_scale. Deterministic under options.seed (one CPU generator).
//
//   at::Tensor k = at::arange(100, at::kDouble);
//   at::Tensor poisson = (k * std::log(50.0) - 50.0 - at::lgamma(k + 1)).exp();
//   PriorFit fit = fit_prior(poisson);   // fit.loc, fit.scale, fit.total_variation
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace structgrad::distributions {

struct PriorFitOptions {
  std::string family = "igr_sb";
  int64_t num_categories = 0;  // 0: the target's length
  double temperature = 0.01;
  double delta = 0.1;
  double rho = 0.99;
  bool hard = false;
  int64_t steps = 1000;
  int64_t num_samples = 512;  // draws per step
  double learning_rate = 0.05;
  double init_scale = 3.0;
  int64_t eval_samples = 50000;
  uint64_t seed = 0;
};

struct PriorFit {
  at::Tensor loc;                  // (D,) Gaussian means; the logits for "concrete"
  at::Tensor scale;                // (D,) Gaussian scales; undefined for "concrete"
  at::Tensor probabilities;        // (W,) the induced pmf estimated at the end
  double total_variation;          // TV(probabilities, target), the target's tail included
  double argmax_total_variation;   // the same for the frequencies of argmax z
  double initial_total_variation;  // total_variation at the starting parameters
};

// target: (L,) floating point, nonnegative, sum <= 1, L >= 2.
PriorFit fit_prior(const at::Tensor& target, const PriorFitOptions& options = {});

// 1/2 sum_k |p_k - target_k| over the longer of the two, plus 1/2 (1 - sum(target)): the
// target's mass beyond its L values, where p is 0. p: (W,), target: (L,).
double total_variation(const at::Tensor& p, const at::Tensor& target);

}  // namespace structgrad::distributions
