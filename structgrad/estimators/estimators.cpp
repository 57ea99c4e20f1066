#include "structgrad/estimators/estimators.h"

#include "structgrad/ops/check.h"

namespace structgrad::estimators {
namespace {

// theta repeated S times along a new leading dimension (a view: gradients flow back to theta).
at::Tensor repeat_samples(const at::Tensor& theta, int64_t num_samples) {
  std::vector<int64_t> sizes{num_samples};
  sizes.insert(sizes.end(), theta.sizes().begin(), theta.sizes().end());
  return theta.unsqueeze(0).expand(sizes);
}

// Calls f and checks that it returned one loss per sample and instance.
at::Tensor evaluate(const char* estimator, const Family& family, const at::Tensor& theta,
                    const LossFn& f, const at::Tensor& structures) {
  TORCH_CHECK_VALUE(f, estimator, ": f is empty");
  at::Tensor losses = f(structures);
  std::vector<int64_t> expected{structures.size(0)};
  auto batch = family.batch_shape(theta);
  expected.insert(expected.end(), batch.begin(), batch.end());
  TORCH_CHECK_VALUE(losses.defined() && losses.sizes() == at::IntArrayRef(expected), estimator,
                    ": f must return losses of shape (samples, *batch) = ",
                    check::shape_string(expected), ", got ",
                    losses.defined() ? check::shape_string(losses.sizes()) : "undefined");
  TORCH_CHECK_VALUE(at::isFloatingType(losses.scalar_type()), estimator,
                    ": f must return floating-point losses");
  check::no_nan(estimator, "f(x)", losses);
  return losses;
}

void check_theta(const char* estimator, const Family& family, const at::Tensor& theta) {
  check::logits(estimator, "theta", theta, family.event_dim);
}

}  // namespace

Estimate exact(const Family& family, const at::Tensor& theta, const LossFn& f) {
  check_theta("estimators.exact", family, theta);
  TORCH_CHECK_VALUE(family.enumerate && family.log_prob, "estimators.exact: family ", family.name,
                    " cannot enumerate its structures with their probabilities");
  at::Tensor all = family.enumerate(theta);  // (N, *event)
  const int64_t count = all.size(0);
  // Every structure for every instance: (N, *batch, *event).
  std::vector<int64_t> view{count};
  const int64_t batch_dims = theta.dim() - family.event_dim;
  for (int64_t i = 0; i < batch_dims; ++i) view.push_back(1);
  view.insert(view.end(), all.sizes().begin() + 1, all.sizes().end());
  std::vector<int64_t> sizes{count};
  sizes.insert(sizes.end(), theta.sizes().begin(), theta.sizes().end());
  at::Tensor structures = all.view(view).expand(sizes).to(theta.scalar_type());

  at::Tensor probabilities = family.log_prob(theta, structures).exp();  // (N, *batch)
  at::Tensor losses = evaluate("estimators.exact", family, theta, f, structures);
  at::Tensor expected = (probabilities * losses).sum(0);
  return {expected.sum(), expected.detach()};
}

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

Estimate reinforce(const Family& family, const at::Tensor& theta, const LossFn& f,
                   int64_t num_samples, GeneratorOpt generator) {
  check_theta("estimators.reinforce", family, theta);
  TORCH_CHECK_VALUE(num_samples >= 2,
                    "estimators.reinforce: num_samples must be at least 2 for the leave-one-out "
                    "baseline, got ", num_samples);
  TORCH_CHECK_VALUE(family.log_prob, "estimators.reinforce: family ", family.name,
                    " has no tractable log-probability");
  at::Tensor x = family.sample(repeat_samples(theta.detach(), num_samples), generator);
  at::Tensor log_p = family.log_prob(theta, x);  // (S, *batch)
  at::Tensor losses = evaluate("estimators.reinforce", family, theta, f, x);
  at::Tensor held = losses.detach();
  at::Tensor baseline = (held.sum(0, /*keepdim=*/true) - held) / double(num_samples - 1);
  at::Tensor score_term = ((held - baseline) * log_p).mean(0);
  // f's own parameters get the plain Monte Carlo gradient of the mean loss.
  at::Tensor surrogate = score_term.sum() + losses.mean(0).sum();
  return {surrogate, held.mean(0)};
}

const std::vector<EstimatorInfo>& estimator_list() {
  static const std::vector<EstimatorInfo> list{
      {"exact", true, "exact gradient by enumerating every structure"},
      {"straight_through", false, "hard sample forward, gradient of the mean backward"},
      {"relaxed", false, "stochastic softmax trick (Gumbel-softmax), tau and hard"},
      {"reinforce", true, "score function with K samples and a leave-one-out baseline"},
  };
  return list;
}

const EstimatorInfo& estimator_info(const std::string& name) {
  for (const auto& info : estimator_list())
    if (info.name == name) return info;
  std::string known;
  for (const auto& info : estimator_list()) known += (known.empty() ? "" : ", ") + info.name;
  TORCH_CHECK_VALUE(false, "unknown estimator '", name, "' (known: ", known, ")");
}

Estimate estimate(const std::string& name, const Family& family, const at::Tensor& theta,
                  const LossFn& f, const Options& options, GeneratorOpt generator) {
  estimator_info(name);
  if (name == "exact") return exact(family, theta, f);
  if (name == "straight_through") return straight_through(family, theta, f, generator);
  if (name == "relaxed") return relaxed(family, theta, f, options.relax, generator);
  return reinforce(family, theta, f, options.num_samples, generator);
}

}  // namespace structgrad::estimators
