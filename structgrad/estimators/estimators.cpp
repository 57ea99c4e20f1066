// The exact estimators and the table of estimators by name; the others are in relaxed.cpp,
// score_function.cpp and direct.cpp.
#include "structgrad/estimators/estimators.h"

#include "structgrad/core/check.h"
#include "structgrad/estimators/common.h"

namespace structgrad::estimators {

using namespace detail;

Estimate exact(const Family& family, const at::Tensor& theta, const LossFn& f) {
  check_theta("estimators.exact", family, theta);
  TORCH_CHECK_VALUE(bool(family.enumerate), "estimators.exact: family ", family.name,
                    " cannot enumerate its structures");
  // Arborescences: the law of argmax(theta + G) has no closed form (the arborescences are not a
  // matroid, so the argmax depends on more than the order of the perturbed scores).
  TORCH_CHECK_VALUE(bool(family.log_prob), "estimators.exact: family ", family.name,
                    " has no closed-form probability of its samples",
                    family.enumerate_traces ? "; exact_traces is exact under its recursive Gumbel-Max law" : "");
  // Every structure for every instance: (N, *batch, *structure).
  at::Tensor structures = over_batch(family.enumerate(theta), family.batch_shape(theta)).to(theta.scalar_type());

  at::Tensor probabilities = family.log_prob(theta, structures).exp();  // (N, *batch)
  at::Tensor losses = evaluate("estimators.exact", family, theta, f, structures);
  at::Tensor expected = (probabilities * losses).sum(0);
  return {expected.sum(), expected.detach()};
}

Estimate exact_gibbs(const Family& family, const at::Tensor& theta, const LossFn& f) {
  check_theta("estimators.exact_gibbs", family, theta);
  TORCH_CHECK_VALUE(family.has_gibbs() && bool(family.enumerate), "estimators.exact_gibbs: family ", family.name,
                    " has no enumerable Gibbs distribution");
  at::Tensor structures = over_batch(family.enumerate(theta), family.batch_shape(theta)).to(theta.scalar_type());
  at::Tensor probabilities = family.gibbs_log_prob(theta, structures).exp();  // (N, *batch)
  at::Tensor losses = evaluate("estimators.exact_gibbs", family, theta, f, structures);
  at::Tensor expected = (probabilities * losses).sum(0);
  return {expected.sum(), expected.detach()};
}

Estimate exact_traces(const Family& family, const at::Tensor& theta, const LossFn& f) {
  check_theta("estimators.exact_traces", family, theta);
  TORCH_CHECK_VALUE(bool(family.enumerate_traces), "estimators.exact_traces: family ", family.name,
                    " has no recursive Gumbel-Max traces");
  Trace all = family.enumerate_traces(theta);
  auto batch = family.batch_shape(theta);
  at::Tensor probabilities =
      family.trace_log_prob(repeat_samples(theta, all.trace.size(0)), over_batch(all.trace, batch)).exp();
  at::Tensor losses = evaluate("estimators.exact_traces", family, theta, f, over_batch(all.structure, batch));
  at::Tensor expected = (probabilities * losses).sum(0);
  return {expected.sum(), expected.detach()};
}

const std::vector<EstimatorInfo>& estimator_list() {
  static const std::vector<EstimatorInfo> list{
      {"exact", true, "exact gradient by enumerating every structure"},
      {"exact_traces", true, "exact gradient under the trace law by enumerating every recursive Gumbel-Max trace"},
      {"exact_gibbs", true, "exact gradient under the Gibbs law p ∝ exp(<theta, x>) by enumeration", false, true},
      {"straight_through", false, "hard sample forward, gradient of the mean backward"},
      {"relaxed", false, "stochastic softmax trick (Gumbel-softmax), tau and hard"},
      {"reinforce", true, "score function with K samples and a leave-one-out baseline"},
      {"gibbs_reinforce", true, "score function under the Gibbs law: K exact Gibbs samples, leave-one-out baseline",
       false, true},
      {"e_reinforce", true, "score of the exponential perturbation (seed 002 Eq. 1), K samples averaged", true},
      {"e_reinforce_plus", true, "score of the exponential perturbation, leave-one-out baseline", true},
      {"t_reinforce", true, "score of the recursive Gumbel-Max trace (seed 002 Eq. 2), K samples averaged", true},
      {"t_reinforce_plus", true, "score of the trace with the leave-one-out baseline (seed 002 Eq. 7)", true},
      {"relax", true, "RELAX (seed 002 Eq. 6) with the relaxed loss as control variate, tau", true},
      {"rebar", true, "REBAR: RELAX with eta times the relaxed loss as control variate, tau and eta", true},
      {"gumbel_rao", false, "straight-through with the relaxation averaged over perturbations given the trace", true},
      {"direct", false, "direct optimization through argmax (seed 003): (z*(eps) - z*) / eps, eps"},
      {"arm", true, "augment-REINFORCE-merge for bernoulli: two antithetic draws per sample"},
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
  if (name == "exact_traces") return exact_traces(family, theta, f);
  if (name == "exact_gibbs") return exact_gibbs(family, theta, f);
  if (name == "gibbs_reinforce") return gibbs_reinforce(family, theta, f, options.num_samples, generator);
  if (name == "straight_through") return straight_through(family, theta, f, generator);
  if (name == "relaxed") return relaxed(family, theta, f, options.relax, generator);
  if (name == "reinforce") return reinforce(family, theta, f, options.num_samples, generator);
  if (name == "e_reinforce") return e_reinforce(family, theta, f, options.num_samples, generator);
  if (name == "e_reinforce_plus") return e_reinforce_plus(family, theta, f, options.num_samples, generator);
  if (name == "t_reinforce") return t_reinforce(family, theta, f, options.num_samples, generator);
  if (name == "t_reinforce_plus") return t_reinforce_plus(family, theta, f, options.num_samples, generator);
  if (name == "relax") return relax(family, theta, f, {}, options.relax, options.num_samples, generator);
  if (name == "rebar") return rebar(family, theta, f, options.eta, options.relax, options.num_samples, generator);
  if (name == "direct") return direct(family, theta, f, options.direct, generator);
  if (name == "arm") return arm(family, theta, f, options.num_samples, generator);
  return gumbel_rao(family, theta, f, options.relax, options.num_conditional, generator);
}

}  // namespace structgrad::estimators
