#include "structgrad/distributions/kl.h"

#include <cmath>

#include "structgrad/ops/check.h"

namespace structgrad::distributions {
namespace {

// log_ratio: (num_samples, *batch).
KLEstimate summarize(const at::Tensor& log_ratio) {
  const double n = double(log_ratio.size(0));
  return {log_ratio.mean(0), log_ratio.std(0, /*unbiased=*/true) / std::sqrt(n)};
}

}  // namespace

KLEstimate monte_carlo_kl(const ExpConcrete& q, const ExpConcrete& p, int64_t num_samples, GeneratorOpt generator) {
  check::in_range("monte_carlo_kl", "num_samples", num_samples, 2, INT64_MAX);
  TORCH_CHECK_VALUE(q.logits().size(-1) == p.logits().size(-1), "monte_carlo_kl: q and p must have the same ",
                    "number of categories, got ", q.logits().size(-1), " and ", p.logits().size(-1));
  at::Tensor y = q.rsample({num_samples}, generator);
  return summarize(q.log_prob(y) - p.log_prob(y));
}

KLEstimate monte_carlo_kl(const InvertibleGaussian& q, const InvertibleGaussian& p, int64_t num_samples,
                          GeneratorOpt generator) {
  check::in_range("monte_carlo_kl", "num_samples", num_samples, 2, INT64_MAX);
  TORCH_CHECK_VALUE(q.latent_dim() == p.latent_dim(), "monte_carlo_kl: q and p must have the same latent ",
                    "dimension, got ", q.latent_dim(), " and ", p.latent_dim());
  IGRSample s = q.rsample_with_log_prob({num_samples}, generator);
  return summarize(s.log_prob - p.log_prob_log_space(s.log_z, s.num_categories));
}

}  // namespace structgrad::distributions
