#include "structgrad/structures/family.h"

#include <limits>

#include "structgrad/core/check.h"
#include "structgrad/structures/graph.h"
#include "structgrad/structures/support.h"

namespace structgrad {
namespace {

// theta with its -inf entries (absent parts) read as 0: a product with an indicator or a
// marginal that is 0 there stays 0 instead of NaN, in the forward and in the backward.
at::Tensor absent_as_zero(const at::Tensor& theta) {
  return at::where(at::isfinite(theta), theta, at::zeros({}, theta.options()));
}

}  // namespace

at::Tensor Family::score(const at::Tensor& theta, const at::Tensor& x) const {
  const std::string function = name + ".score";
  check(function.c_str(), theta);
  TORCH_CHECK_VALUE(x.dim() >= event_dim, function, ": x must be structures (*sample, *batch, *event), got ",
                    check::shape_string(x.sizes()));
  TORCH_CHECK_VALUE(x.sizes().slice(x.dim() - event_dim) == theta.sizes().slice(theta.dim() - event_dim), function,
                    ": x's event shape must be theta's, got x ", check::shape_string(x.sizes()), " and theta ",
                    check::shape_string(theta.sizes()));
  check::broadcastable(function.c_str(), "x's and theta's batch shapes", x.sizes().slice(0, x.dim() - event_dim),
                       theta.sizes().slice(0, theta.dim() - event_dim));
  check_indicators(function.c_str(), x);
  const at::Tensor chosen = x.to(theta.scalar_type());
  at::Tensor total = (absent_as_zero(theta) * chosen).flatten(-event_dim).sum(-1);
  if (symmetric) total = total / 2;
  // A structure that uses an absent part, or a point that is no structure, has probability 0.
  const at::Tensor uses_absent = ((chosen != 0) & at::isneginf(theta)).flatten(-event_dim).any(-1);
  const at::Tensor possible = support ? support(x) & uses_absent.logical_not() : uses_absent.logical_not();
  return outside_support_as_minus_infinity(total, possible);
}

namespace {

// The parts of a family's Gibbs law every Gibbs verb needs, checked with the verb's name.
void require_gibbs(const Family& family, const std::string& function, const at::Tensor& theta) {
  TORCH_CHECK_VALUE(family.log_partition && family.marginals, function, ": the family ", family.name,
                    " has no tractable Gibbs distribution (no log_partition)");
  family.check(function.c_str(), theta);
}

}  // namespace

at::Tensor Family::gibbs_log_prob(const at::Tensor& theta, const at::Tensor& x) const {
  require_gibbs(*this, name + ".gibbs_log_prob", theta);
  return score(theta, x) - log_partition(theta);
}

at::Tensor Family::entropy(const at::Tensor& theta) const {
  require_gibbs(*this, name + ".entropy", theta);
  at::Tensor expected_score = (absent_as_zero(theta) * marginals(theta)).flatten(-event_dim).sum(-1);
  if (symmetric) expected_score = expected_score / 2;
  return log_partition(theta) - expected_score;
}

at::Tensor Family::kl_divergence(const at::Tensor& theta_p, const at::Tensor& theta_q) const {
  const std::string function = name + ".kl_divergence";
  require_gibbs(*this, function, theta_p);
  check(function.c_str(), theta_q);
  TORCH_CHECK_VALUE(theta_p.sizes() == theta_q.sizes(), function, ": theta_p and theta_q must have one shape, got ",
                    check::shape_string(theta_p.sizes()), " and ", check::shape_string(theta_q.sizes()));
  const at::Tensor mu_p = marginals(theta_p);
  const at::Tensor both = at::isfinite(theta_p) & at::isfinite(theta_q);
  at::Tensor gap = (at::where(both, theta_q - theta_p, at::zeros({}, theta_p.options())) * mu_p)
                       .flatten(-event_dim)
                       .sum(-1);
  if (symmetric) gap = gap / 2;
  // p puts mass on a part q forbids: the divergence is infinite.
  const at::Tensor q_forbids = (at::isneginf(theta_q) & (mu_p > 0)).flatten(-event_dim).any(-1);
  return (log_partition(theta_q) - log_partition(theta_p) - gap)
      .masked_fill(q_forbids, std::numeric_limits<double>::infinity());
}

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
  return graph::edge_noise(theta, symmetric, generator).add_(theta);  // theta + noise, in the noise's buffer
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
