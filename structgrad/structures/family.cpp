#include "structgrad/structures/family.h"

#include "structgrad/structures/graph.h"

namespace structgrad {

std::vector<int64_t> Family::batch_shape(const at::Tensor& theta) const {
  TORCH_CHECK_VALUE(theta.dim() >= event_dim, name, ": theta must have at least ", event_dim,
                    " dimension(s)");
  auto sizes = theta.sizes();
  return {sizes.begin(), sizes.end() - event_dim};
}

std::vector<int64_t> Family::event_shape(int64_t n) const {
  if (theta_event_shape) return theta_event_shape(n);
  return std::vector<int64_t>(event_dim, n);
}

at::Tensor Family::perturb(const at::Tensor& theta, GeneratorOpt generator) const {
  if (perturbation) return perturbation(theta, generator);
  return theta + graph::edge_noise(theta, symmetric, generator);
}

at::Tensor Family::relax_perturbed(const at::Tensor& perturbed, const RelaxOptions& options) const {
  const std::string function = name + ".relax_perturbed";
  TORCH_CHECK_VALUE(relax_scores, function, ": the family ", name, " has no relaxation");
  check(function.c_str(), perturbed);
  return relax_scores(function.c_str(), perturbed, options);
}

at::Tensor Family::relax(const at::Tensor& theta, const RelaxOptions& options, GeneratorOpt generator) const {
  const std::string function = name + ".relax";
  TORCH_CHECK_VALUE(has_relax(), function, ": the family ", name, " has no stochastic softmax trick",
                    relax_scores ? " (its relax_perturbed relaxes another structure, for RELAX's control variate)" : "",
                    "; its gradient estimators are the score-function ones (reinforce, and the trace estimators ",
                    "where it has traces)");
  check(function.c_str(), theta);
  at::Tensor perturbed = perturb(theta, generator);
  at::Tensor soft = relax_scores(function.c_str(), perturbed, options);
  if (!options.hard) return soft;
  // (soft - soft) is exactly zero, so the forward is exactly the sample of the same noise.
  return map(perturbed.detach()).to(soft.scalar_type()) + (soft - soft.detach());
}

void check_only_regularizer(const char* function, const std::string& given, const char* only) {
  TORCH_CHECK_VALUE(given.empty() || given == only, function, ": the only regularizer is \"", only, "\", got \"",
                    given, "\"");
}

}  // namespace structgrad
