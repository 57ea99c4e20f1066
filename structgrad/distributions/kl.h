// Monte Carlo KL divergences, the comparison for the closed-form IGR KL (igr.h, Eq. 19):
//   KL(q || p) ~= mean_s [log q(x_s) - log p(x_s)],  x_s ~ q,
// with the standard error of that mean. Both run in log space: ExpConcrete on the log-simplex
// (the Concrete density of exp(y) underflows at low temperature) and IGR on log z, so they
// stay finite at temperatures down to 0.01 and logits of +-1e3.
//
// Shapes: estimate and standard_error are q's batch shape; p's parameters must broadcast to q's.
//
//   auto kl = monte_carlo_kl(ExpConcrete(logits_q, 0.5), ExpConcrete(logits_p, 0.5), 1000, gen);
//   // kl.estimate +- 2 * kl.standard_error
#pragma once

#include <ATen/ATen.h>

#include "structgrad/distributions/concrete.h"
#include "structgrad/distributions/igr.h"

namespace structgrad::distributions {

// num_samples >= 2. q and p must have the same number of categories.
MonteCarloEstimate monte_carlo_kl(const ExpConcrete& q, const ExpConcrete& p, int64_t num_samples,
                                  GeneratorOpt generator = c10::nullopt);
// q and p need the same latent dimension only (not the same g, unlike kl_divergence); draws of
// the truncated IGRStickBreaking are scored with their own K.
MonteCarloEstimate monte_carlo_kl(const InvertibleGaussian& q, const InvertibleGaussian& p, int64_t num_samples,
                                  GeneratorOpt generator = c10::nullopt);

}  // namespace structgrad::distributions
