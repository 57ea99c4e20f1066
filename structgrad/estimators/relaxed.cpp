// The estimators that differentiate a relaxation: straight-through, the stochastic softmax trick,
// Gumbel-Rao.
#include "structgrad/core/check.h"
#include "structgrad/estimators/common.h"

namespace structgrad::estimators {

using namespace detail;

Estimate straight_through(const Family& family, const at::Tensor& theta, const LossFn& f,
                          GeneratorOpt generator) {
  check_theta("estimators.straight_through", family, theta);
  TORCH_CHECK_VALUE(family.mean, "estimators.straight_through: family ", family.name,
                    " has no differentiable mean");
  at::Tensor hard = family.sample(theta.detach(), generator);
  at::Tensor soft = family.mean(theta);
  at::Tensor x = (hard + (soft - soft.detach())).unsqueeze(0);
  at::Tensor losses = evaluate("estimators.straight_through", family, theta, f, x);
  return {losses.sum(), losses.mean(0).detach()};
}

Estimate relaxed(const Family& family, const at::Tensor& theta, const LossFn& f,
                 const RelaxOptions& options, GeneratorOpt generator) {
  check_theta("estimators.relaxed", family, theta);
  at::Tensor x = family.relax(theta, options, generator).unsqueeze(0);
  at::Tensor losses = evaluate("estimators.relaxed", family, theta, f, x);
  return {losses.sum(), losses.mean(0).detach()};
}

Estimate gumbel_rao(const Family& family, const at::Tensor& theta, const LossFn& f, const RelaxOptions& options,
                    int64_t num_conditional, GeneratorOpt generator) {
  const char* estimator = "estimators.gumbel_rao";
  check_theta(estimator, family, theta);
  check::positive(estimator, "tau", options.tau);
  TORCH_CHECK_VALUE(num_conditional >= 1, estimator, ": num_conditional must be at least 1, got ", num_conditional);
  require(bool(family.trace) && bool(family.conditional_gumbel) && bool(family.relax_scores), estimator, family,
          "trace, conditional perturbations and relaxation");
  Trace t = family.trace(theta.detach(), generator);
  at::Tensor traces = t.trace.unsqueeze(0).expand(with_samples(num_conditional, t.trace.sizes()));
  at::Tensor repeated = repeat_samples(theta, num_conditional);
  at::Tensor perturbed = family.conditional_gumbel(repeated.detach(), traces, generator);
  // theta + G with the conditional noise G held fixed: the straight-through Gumbel-softmax
  // gradient, averaged over G given the trace (its expectation is unchanged, its variance lower).
  at::Tensor keys = at::isfinite(perturbed);
  at::Tensor noise = at::where(keys, perturbed - repeated.detach(), at::zeros_like(perturbed));
  perturbed = at::where(keys, repeated + noise, perturbed);
  at::Tensor soft = family.relax_perturbed(perturbed, options).mean(0);
  at::Tensor x = (t.structure + (soft - soft.detach())).unsqueeze(0);
  at::Tensor losses = evaluate(estimator, family, theta, f, x);
  return {losses.sum(), losses.mean(0).detach()};
}

}  // namespace structgrad::estimators
