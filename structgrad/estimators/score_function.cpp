// The score-function estimators: REINFORCE, the recursive Gumbel-Max ones of seed 002 (E- and
// T-REINFORCE, their leave-one-out forms, RELAX) and ARM.
#include <cmath>

#include "structgrad/core/check.h"
#include "structgrad/estimators/common.h"

namespace structgrad::estimators {

using namespace detail;

namespace {

// Which score a score-function estimator uses.
enum class Score { kStructure, kGibbs, kTrace, kPerturbation };

// log p(E) of the perturbation E = exp(-perturbed): sum over the keys of theta_k - E_k exp(theta_k).
// The keys are the finite parts the score reads (one exponential per undirected edge).
at::Tensor perturbation_log_prob(const Family& family, const at::Tensor& theta, const at::Tensor& perturbed) {
  at::Tensor keys = scored_parts(family, at::isfinite(perturbed).to(at::kByte)).to(at::kBool);
  at::Tensor t = at::where(keys, theta, at::zeros_like(theta)), s = at::where(keys, perturbed, t);
  return (t - at::exp(t - s)).masked_fill(~keys, 0).sum(event_dims(family));
}

// The score-function estimator with K samples: sum_k w_k grad log p(sample_k) / K, where
// w_k = f(x_k) or, with the leave-one-out baseline, f(x_k) - mean_{j != k} f(x_j).
Estimate score_function(const char* estimator, Score score, bool baseline, const Family& family,
                        const at::Tensor& theta, const LossFn& f, int64_t num_samples, GeneratorOpt generator) {
  check_theta(estimator, family, theta);
  if (baseline)
    TORCH_CHECK_VALUE(num_samples >= 2, estimator, ": num_samples must be at least 2 for the leave-one-out baseline, got ",
                      num_samples);
  TORCH_CHECK_VALUE(num_samples >= 1, estimator, ": num_samples must be at least 1, got ", num_samples);
  at::Tensor x, log_p;
  if (score == Score::kStructure) {
    TORCH_CHECK_VALUE(bool(family.log_prob), estimator, ": family ", family.name,
                      " has no tractable log-probability of its perturb-and-MAP samples",
                      family.has_gibbs() ? "; gibbs_reinforce is the score-function estimator under its Gibbs law" : "");
    x = family.sample(repeat_samples(theta.detach(), num_samples), generator);
    log_p = family.log_prob(theta, x);
  } else if (score == Score::kGibbs) {
    require(family.has_gibbs(), estimator, family, "Gibbs sampler (gibbs_sample)");
    x = family.gibbs_sample(repeat_samples(theta.detach(), num_samples), generator);
    log_p = family.gibbs_log_prob(theta, x);
  } else {
    require(bool(family.trace), estimator, family, "recursive Gumbel-Max trace");
    Trace t = family.trace(repeat_samples(theta.detach(), num_samples), generator);
    x = t.structure;
    log_p = score == Score::kTrace ? family.trace_log_prob(repeat_samples(theta, num_samples), t.trace)
                                   : perturbation_log_prob(family, repeat_samples(theta, num_samples), t.perturbed);
  }
  at::Tensor losses = evaluate(estimator, family, theta, f, x);
  at::Tensor held = losses.detach();
  at::Tensor weight = baseline ? held - (held.sum(0, /*keepdim=*/true) - held) / double(num_samples - 1) : held;
  at::Tensor score_term = (weight * log_p).mean(0);
  // f's own parameters get the plain Monte Carlo gradient of the mean loss.
  at::Tensor surrogate = score_term.sum() + losses.mean(0).sum();
  return {surrogate, held.mean(0)};
}

}  // namespace

Estimate reinforce(const Family& family, const at::Tensor& theta, const LossFn& f, int64_t num_samples,
                   GeneratorOpt generator) {
  return score_function("estimators.reinforce", Score::kStructure, true, family, theta, f, num_samples, generator);
}

Estimate gibbs_reinforce(const Family& family, const at::Tensor& theta, const LossFn& f, int64_t num_samples,
                         GeneratorOpt generator) {
  return score_function("estimators.gibbs_reinforce", Score::kGibbs, true, family, theta, f, num_samples, generator);
}

Estimate e_reinforce(const Family& family, const at::Tensor& theta, const LossFn& f, int64_t num_samples,
                     GeneratorOpt generator) {
  return score_function("estimators.e_reinforce", Score::kPerturbation, false, family, theta, f, num_samples,
                        generator);
}

Estimate e_reinforce_plus(const Family& family, const at::Tensor& theta, const LossFn& f, int64_t num_samples,
                          GeneratorOpt generator) {
  return score_function("estimators.e_reinforce_plus", Score::kPerturbation, true, family, theta, f, num_samples,
                        generator);
}

Estimate t_reinforce(const Family& family, const at::Tensor& theta, const LossFn& f, int64_t num_samples,
                     GeneratorOpt generator) {
  return score_function("estimators.t_reinforce", Score::kTrace, false, family, theta, f, num_samples, generator);
}

Estimate t_reinforce_plus(const Family& family, const at::Tensor& theta, const LossFn& f, int64_t num_samples,
                          GeneratorOpt generator) {
  return score_function("estimators.t_reinforce_plus", Score::kTrace, true, family, theta, f, num_samples, generator);
}

namespace {

// RELAX with the control variate `control`; `learned`: the surrogate also carries its variance
// objective (relax with a user's c). Empty control: eta f(relax_perturbed(e, options)).
Estimate relax_with(const char* estimator, const Family& family, const at::Tensor& theta, const LossFn& f,
                    const ControlVariate& c, bool learned, double eta, const RelaxOptions& options,
                    int64_t num_samples, GeneratorOpt generator) {
  check_theta(estimator, family, theta);
  check::positive(estimator, "tau", options.tau);
  TORCH_CHECK_VALUE(std::isfinite(eta), estimator, ": eta must be finite, got ", eta);
  TORCH_CHECK_VALUE(num_samples >= 1, estimator, ": num_samples must be at least 1, got ", num_samples);
  require(bool(family.trace) && bool(family.conditional_gumbel), estimator, family,
          "recursive Gumbel-Max trace with conditional perturbations");
  if (!c) require(bool(family.relax_scores), estimator, family, "relaxation for the default control variate");
  ControlVariate control = c ? c : ControlVariate([&](const at::Tensor& perturbed) {
    at::Tensor relaxed_loss = f(family.relax_perturbed(perturbed, options));
    return eta == 1 ? relaxed_loss : relaxed_loss * eta;
  });
  auto checked_control = [&](const at::Tensor& perturbed) {
    at::Tensor value = control(perturbed);
    auto expected = with_samples(num_samples, family.batch_shape(theta));
    TORCH_CHECK_VALUE(value.defined() && value.sizes() == at::IntArrayRef(expected), estimator,
                      ": the control variate must return (samples, *batch) = ", check::shape_string(expected));
    return value;
  };

  // Every sample's own copy of theta, so that one gradient call gives per-sample scores.
  at::Tensor theta_s = theta.detach().unsqueeze(0).repeat(with_samples(num_samples, std::vector<int64_t>(theta.dim(), 1)))
                           .requires_grad_();
  Trace t = family.trace(theta_s, generator);
  at::Tensor losses = evaluate(estimator, family, theta, f, t.structure);
  at::Tensor e_tilde = family.conditional_gumbel(theta_s, t.trace, generator);
  at::Tensor c_e = checked_control(t.perturbed), c_tilde = checked_control(e_tilde);
  at::Tensor score = gradient(family.trace_log_prob(theta_s, t.trace).sum(), theta_s, false);
  at::Tensor weight = losses.detach() - c_tilde;
  for (int64_t d = 0; d < family.event_dim; ++d) weight = weight.unsqueeze(-1);
  at::Tensor per_sample = weight * score + gradient(c_e.sum(), theta_s, learned) - gradient(c_tilde.sum(), theta_s, learned);
  at::Tensor g = per_sample.mean(0);
  at::Tensor surrogate = (theta * g.detach()).sum() + losses.mean(0).sum();
  if (learned && g.requires_grad()) surrogate = surrogate + g.pow(2).sum();  // c's variance objective
  return {surrogate, losses.detach().mean(0)};
}

}  // namespace

Estimate relax(const Family& family, const at::Tensor& theta, const LossFn& f, const ControlVariate& c,
               const RelaxOptions& options, int64_t num_samples, GeneratorOpt generator) {
  return relax_with("estimators.relax", family, theta, f, c, bool(c), 1.0, options, num_samples, generator);
}

Estimate rebar(const Family& family, const at::Tensor& theta, const LossFn& f, double eta, const RelaxOptions& options,
               int64_t num_samples, GeneratorOpt generator) {
  return relax_with("estimators.rebar", family, theta, f, {}, false, eta, options, num_samples, generator);
}

Estimate arm(const Family& family, const at::Tensor& theta, const LossFn& f, int64_t num_samples,
             GeneratorOpt generator) {
  const char* estimator = "estimators.arm";
  check_theta(estimator, family, theta);
  TORCH_CHECK_VALUE(family.name == "bernoulli", estimator, ": ARM needs independent binary choices (family bernoulli), got ",
                    family.name);
  TORCH_CHECK_VALUE(num_samples >= 1, estimator, ": num_samples must be at least 1, got ", num_samples);
  at::Tensor u = at::empty(with_samples(num_samples, theta.sizes()), at::kDouble).uniform_(0, 1, generator).to(theta.scalar_type());
  at::Tensor logits = theta.detach().unsqueeze(0);
  at::Tensor antithetic = (u > at::sigmoid(-logits)).to(theta.scalar_type());
  at::Tensor direct_draw = (u < at::sigmoid(logits)).to(theta.scalar_type());
  at::Tensor losses = evaluate(estimator, family, theta, f, at::cat({antithetic, direct_draw}));  // (2K, *batch)
  at::Tensor difference = (losses.narrow(0, 0, num_samples) - losses.narrow(0, num_samples, num_samples)).detach();
  at::Tensor g = (difference.unsqueeze(-1) * (u - 0.5)).mean(0);
  // Both draws are Bernoulli(sigmoid(theta)): f's parameters get the mean of the two.
  at::Tensor surrogate = (theta * g).sum() + losses.mean(0).sum();
  return {surrogate, losses.detach().mean(0)};
}

}  // namespace structgrad::estimators
