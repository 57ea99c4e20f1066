#include "structgrad/distributions/kl.h"

#include <cmath>

#include "structgrad/core/check.h"

namespace structgrad::distributions {
namespace {

// p is scored at q's draws, so p's parameters must broadcast to q's (a shared prior, say).
void check_batch(at::IntArrayRef q, at::IntArrayRef p) {
  check::broadcastable("monte_carlo_kl", "q and p", q, p);
  TORCH_CHECK_VALUE(at::infer_size(q, p) == q, "monte_carlo_kl: p's parameters, shape ", check::shape_string(p),
                    ", must broadcast to q's, shape ", check::shape_string(q));
}

}  // namespace

MonteCarloEstimate monte_carlo_kl(const ExpConcrete& q, const ExpConcrete& p, int64_t num_samples,
                                  GeneratorOpt generator) {
  check::in_range("monte_carlo_kl", "num_samples", num_samples, 2, INT64_MAX);
  TORCH_CHECK_VALUE(q.logits().size(-1) == p.logits().size(-1), "monte_carlo_kl: q and p must have the same ",
                    "number of categories, got ", q.logits().size(-1), " and ", p.logits().size(-1));
  check_batch(q.logits().sizes(), p.logits().sizes());
  at::Tensor y = q.rsample({num_samples}, generator);
  return monte_carlo_mean(q.log_prob(y) - p.log_prob(y));
}

MonteCarloEstimate monte_carlo_kl(const InvertibleGaussian& q, const InvertibleGaussian& p, int64_t num_samples,
                                      GeneratorOpt generator) {
  check::in_range("monte_carlo_kl", "num_samples", num_samples, 2, INT64_MAX);
  TORCH_CHECK_VALUE(q.latent_dim() == p.latent_dim(), "monte_carlo_kl: q and p must have the same latent ",
                    "dimension, got ", q.latent_dim(), " and ", p.latent_dim());
  check_batch(q.loc().sizes(), p.loc().sizes());
  IGRSample s = q.rsample_with_log_prob({num_samples}, generator);
  if (!q.same_map(p)) return monte_carlo_mean(s.log_prob - p.log_prob_log_space(s.log_z, s.num_categories));
  // One map g: log q(z) - log p(z) is the Gaussians' log-ratio at the latent draw, over the
  // coordinates the draw uses (all D, or IGR-SB's K - 1 sticks). Exact where inverting g from z
  // is not (saturated sticks, vertices in float32).
  auto log_normal = [&](const at::Tensor& loc, const at::Tensor& scale) {
    return -0.5 * ((s.latent - loc) / scale).square() - scale.log();
  };
  at::Tensor used = at::arange(q.latent_dim(), s.num_categories.options()) < (s.num_categories - 1).unsqueeze(-1);
  at::Tensor ratio = (log_normal(q.loc(), q.scale()) - log_normal(p.loc(), p.scale())).masked_fill(~used, 0);
  return monte_carlo_mean(ratio.sum(-1));
}

}  // namespace structgrad::distributions
