#include "structgrad/estimators/estimators.h"

#include <torch/torch.h>

#include <cmath>

#include "structgrad/ops/check.h"
#include "structgrad/structures/bernoulli.h"

namespace structgrad::estimators {
namespace {

// (samples, *sizes).
std::vector<int64_t> with_samples(int64_t samples, at::IntArrayRef sizes) {
  std::vector<int64_t> out{samples};
  out.insert(out.end(), sizes.begin(), sizes.end());
  return out;
}

// theta repeated S times along a new leading dimension (a view: gradients flow back to theta).
at::Tensor repeat_samples(const at::Tensor& theta, int64_t num_samples) {
  return theta.unsqueeze(0).expand(with_samples(num_samples, theta.sizes()));
}

// One tensor per structure, (N, *rest), seen by every instance of a batch: (N, *batch, *rest).
at::Tensor over_batch(const at::Tensor& per_structure, const std::vector<int64_t>& batch) {
  std::vector<int64_t> view{per_structure.size(0)}, sizes{per_structure.size(0)};
  for (int64_t s : batch) {
    view.push_back(1);
    sizes.push_back(s);
  }
  view.insert(view.end(), per_structure.sizes().begin() + 1, per_structure.sizes().end());
  sizes.insert(sizes.end(), per_structure.sizes().begin() + 1, per_structure.sizes().end());
  return per_structure.reshape(view).expand(sizes);
}

// The parts of theta a structure's score reads: all, or the upper triangle of symmetric families
// (an undirected edge scores once, and its gradient lands where the family's log_prob reads it).
at::Tensor scored_parts(const Family& family, const at::Tensor& x) { return family.symmetric ? x.triu(1) : x; }

// The dimensions of a family's event, counted from the end: {-1} or {-1, -2}.
std::vector<int64_t> event_dims(const Family& family) {
  std::vector<int64_t> dims;
  for (int64_t d = 1; d <= family.event_dim; ++d) dims.push_back(-d);
  return dims;
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

namespace {

// Which score a score-function estimator uses.
enum class Score { kStructure, kTrace, kPerturbation };

void require(bool has, const char* estimator, const Family& family, const char* what) {
  TORCH_CHECK_VALUE(has, estimator, ": family ", family.name, " has no ", what);
}

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
    require(bool(family.log_prob), estimator, family, "tractable log-probability");
    x = family.sample(repeat_samples(theta.detach(), num_samples), generator);
    log_p = family.log_prob(theta, x);
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

at::Tensor gradient(const at::Tensor& output, const at::Tensor& input, bool create_graph) {
  if (!output.requires_grad()) return at::zeros_like(input);
  auto g = torch::autograd::grad({output}, {input}, {}, /*retain_graph=*/true, create_graph, /*allow_unused=*/true)[0];
  return g.defined() ? g : at::zeros_like(input);
}

}  // namespace

Estimate reinforce(const Family& family, const at::Tensor& theta, const LossFn& f, int64_t num_samples,
                   GeneratorOpt generator) {
  return score_function("estimators.reinforce", Score::kStructure, true, family, theta, f, num_samples, generator);
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

Estimate relax(const Family& family, const at::Tensor& theta, const LossFn& f, const ControlVariate& c,
               const RelaxOptions& options, int64_t num_samples, GeneratorOpt generator) {
  const char* estimator = "estimators.relax";
  check_theta(estimator, family, theta);
  check::positive(estimator, "tau", options.tau);
  TORCH_CHECK_VALUE(num_samples >= 1, estimator, ": num_samples must be at least 1, got ", num_samples);
  require(bool(family.trace) && bool(family.conditional_gumbel), estimator, family,
          "recursive Gumbel-Max trace with conditional perturbations");
  const bool learned = bool(c);
  if (!learned) require(bool(family.relax_perturbed), estimator, family, "relaxation for the default control variate");
  ControlVariate control = learned ? c : ControlVariate([&](const at::Tensor& perturbed) {
    return f(family.relax_perturbed(perturbed, options));
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

Estimate gumbel_rao(const Family& family, const at::Tensor& theta, const LossFn& f, const RelaxOptions& options,
                    int64_t num_conditional, GeneratorOpt generator) {
  const char* estimator = "estimators.gumbel_rao";
  check_theta(estimator, family, theta);
  check::positive(estimator, "tau", options.tau);
  TORCH_CHECK_VALUE(num_conditional >= 1, estimator, ": num_conditional must be at least 1, got ", num_conditional);
  require(bool(family.trace) && bool(family.conditional_gumbel) && bool(family.relax_perturbed), estimator, family,
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

namespace {

// <perturbed, x> per structure: x (S, *batch, *event) -> (S, *batch).
at::Tensor structure_scores(const Family& family, const at::Tensor& perturbed, const at::Tensor& x) {
  at::Tensor parts = scored_parts(family, x);
  return at::where(parts != 0, perturbed * parts, at::zeros_like(parts)).sum(event_dims(family));  // -inf * 0 is not a score
}

// Costs of the low-dimensional approximation: f with one part of z* switched on, minus with it
// switched off, for every part (both triangles together for symmetric families).
at::Tensor flip_costs(const char* estimator, const Family& family, const at::Tensor& theta, const LossFn& f,
                      const at::Tensor& z) {
  auto event = theta.sizes().slice(theta.dim() - family.event_dim);
  int64_t parts = 1;
  for (int64_t s : event) parts *= s;
  at::Tensor unit = at::eye(parts, theta.options()).reshape(with_samples(parts, event));  // (P, *event)
  if (family.symmetric) unit = unit + unit.transpose(-1, -2) * (1 - at::eye(event[0], theta.options()));
  unit = over_batch(unit, family.batch_shape(theta));
  at::Tensor on = at::maximum(z.unsqueeze(0), unit), off = z.unsqueeze(0) * (1 - unit);
  at::Tensor both = at::cat({on, off});  // one call of f on (2P, *batch, *event)
  at::Tensor losses = evaluate(estimator, family, theta, f, both).detach();
  at::Tensor difference = losses.narrow(0, 0, parts) - losses.narrow(0, parts, parts);  // (P, *batch)
  // Back to (*batch, *event): move the parts dimension to the end and unflatten it.
  std::vector<int64_t> shape(theta.sizes().begin(), theta.sizes().end());
  at::Tensor costs = difference.movedim(0, -1).reshape(shape);
  return family.symmetric ? costs.triu(1) + costs.triu(1).transpose(-1, -2) : costs;
}

}  // namespace

namespace {

void check_direct_options(const char* estimator, const DirectOptions& options) {
  TORCH_CHECK_VALUE(std::isfinite(options.eps) && options.eps != 0, estimator,
                    ": eps must be finite and non-zero, got ", options.eps);
  TORCH_CHECK_VALUE(options.argmax == "enumerate" || options.argmax == "linear" || options.argmax == "flip", estimator,
                    ": argmax must be \"enumerate\", \"linear\" or \"flip\", got \"", options.argmax, "\"");
}

// The loss of z* picked out of the losses of all structures (N, *batch), keeping f's graph for its
// parameters: (1, *batch).
at::Tensor loss_of_map(const at::Tensor& all_losses, const at::Tensor& structures, const at::Tensor& z,
                       int64_t event_dim) {
  at::Tensor star = (structures == z.unsqueeze(0)).flatten(structures.dim() - event_dim).all(-1);  // (N, *batch)
  return (all_losses * star.to(all_losses.scalar_type())).sum(0, /*keepdim=*/true);
}

// eps times the checked costs of argmax "linear", or those of "flip" for z*: what the
// loss-augmented argmax adds to the perturbed scores.
at::Tensor augmentation_costs(const char* estimator, const Family& family, const at::Tensor& theta, const LossFn& f,
                              const at::Tensor& z, const DirectOptions& options) {
  at::Tensor costs = options.argmax == "linear" ? options.costs : flip_costs(estimator, family, theta, f, z);
  TORCH_CHECK_VALUE(costs.defined() && costs.sizes() == theta.sizes(), estimator, ": costs must have the shape ",
                    check::shape_string(theta.sizes()), " for argmax \"linear\"");
  check::finite(estimator, "costs", costs);
  return options.eps * costs.to(theta.scalar_type()).detach();
}

// The labelled instances' mask (*batch, 1 per event dimension), or undefined when none is given.
at::Tensor labelled_mask(const char* estimator, const DirectOptions& options, const at::Tensor& theta,
                         int64_t event_dim) {
  if (!options.labelled.defined()) return {};
  TORCH_CHECK_VALUE(options.labels.defined() && options.labels.sizes() == theta.sizes(), estimator,
                    ": labels must have the shape ", check::shape_string(theta.sizes()));
  auto batch = theta.sizes().slice(0, theta.dim() - event_dim);
  TORCH_CHECK_VALUE(options.labelled.sizes() == batch, estimator, ": labelled must have shape ",
                    check::shape_string(batch));
  at::Tensor mask = options.labelled.to(at::kBool);
  for (int64_t d = 0; d < event_dim; ++d) mask = mask.unsqueeze(-1);
  return mask;
}

}  // namespace

Estimate direct(const Family& family, const at::Tensor& theta, const LossFn& f, const DirectOptions& options,
                GeneratorOpt generator) {
  const char* estimator = "estimators.direct";
  check_theta(estimator, family, theta);
  check_direct_options(estimator, options);
  at::Tensor perturbed = family.perturb(theta.detach(), generator);
  at::Tensor z = family.map(perturbed);  // (*batch, *event)
  TORCH_CHECK_VALUE(z.sizes() == theta.sizes(), estimator, ": family ", family.name,
                    "'s structures are not indicators of theta's parts, so its argmax cannot be loss-augmented");
  at::Tensor losses, augmented;
  if (options.argmax == "enumerate") {
    TORCH_CHECK_VALUE(bool(family.enumerate), estimator, ": family ", family.name, " cannot enumerate its structures");
    at::Tensor all = family.enumerate(theta).to(theta.scalar_type());  // (N, *event)
    at::Tensor structures = over_batch(all, family.batch_shape(theta));
    at::Tensor all_losses = evaluate(estimator, family, theta, f, structures);  // (N, *batch)
    at::Tensor scores = structure_scores(family, perturbed.unsqueeze(0), structures);
    at::Tensor best = (scores + options.eps * all_losses.detach()).argmax(0);  // (*batch)
    augmented = all.index_select(0, best.reshape(-1)).reshape(theta.sizes());
    losses = loss_of_map(all_losses, structures, z, family.event_dim);
  } else {
    losses = evaluate(estimator, family, theta, f, z.unsqueeze(0));
    augmented = family.map(perturbed + augmentation_costs(estimator, family, theta, f, z, options));
  }
  at::Tensor estimate = scored_parts(family, augmented - z) / options.eps;
  if (at::Tensor mask = labelled_mask(estimator, options, theta, family.event_dim); mask.defined()) {
    at::Tensor supervised = scored_parts(family, z - options.labels.to(theta.scalar_type())) / std::abs(options.eps);
    estimate = at::where(mask, supervised, estimate);
  }
  at::Tensor surrogate = (theta * estimate.detach()).sum() + losses.sum();
  return {surrogate, losses.detach().squeeze(0)};
}

namespace {

// The pairwise parts z_i z_j (i < j) that a's score reads: (*, n) -> (*, n, n).
at::Tensor pair_parts(const at::Tensor& z) { return (z.unsqueeze(-1) * z.unsqueeze(-2)).triu(1); }

}  // namespace

Estimate direct_pairwise_binary(const at::Tensor& h, const at::Tensor& a, const LossFn& f,
                                const DirectOptions& options, const PairwiseDirectOptions& pairwise,
                                GeneratorOpt generator) {
  const char* estimator = "estimators.direct_pairwise_binary";
  pairwise_binary::check_potentials(estimator, h, a);
  check_direct_options(estimator, options);
  // The unaries have the bernoulli family's shape, so f's shape checks and the flip costs are its.
  const Family& unaries = bernoulli::family();
  pairwise_binary::Perturbed perturbed =
      pairwise_binary::perturb(h.detach(), a.detach(), pairwise.pairwise_noise, generator);
  at::Tensor z = pairwise_binary::map(perturbed.h, perturbed.a, pairwise.map);  // (*batch, n)
  at::Tensor losses, augmented;
  if (options.argmax == "enumerate") {
    const int64_t n = h.size(-1);
    TORCH_CHECK_VALUE(n <= 16, estimator, ": argmax \"enumerate\" needs n <= 16, got ", n, " (use \"flip\")");
    at::Tensor all = pairwise_binary::enumerate(n, h.options());  // (2^n, n)
    at::Tensor structures = over_batch(all, unaries.batch_shape(h));
    at::Tensor all_losses = evaluate(estimator, unaries, h, f, structures);  // (2^n, *batch)
    at::Tensor scores = pairwise_binary::score(perturbed.h, perturbed.a, structures);
    at::Tensor best = (scores + options.eps * all_losses.detach()).argmax(0);
    augmented = all.index_select(0, best.reshape(-1)).reshape(h.sizes());
    losses = loss_of_map(all_losses, structures, z, 1);
  } else {
    losses = evaluate(estimator, unaries, h, f, z.unsqueeze(0));
    // Only the unaries move, so a supermodular a stays supermodular for max-flow.
    at::Tensor augmentation = augmentation_costs(estimator, unaries, h, f, z, options);
    augmented = pairwise_binary::map(perturbed.h + augmentation, perturbed.a, pairwise.map);
  }
  at::Tensor estimate_h = (augmented - z) / options.eps;
  at::Tensor estimate_a = (pair_parts(augmented) - pair_parts(z)) / options.eps;
  if (at::Tensor mask = labelled_mask(estimator, options, h, 1); mask.defined()) {
    at::Tensor labels = options.labels.to(h.scalar_type());
    estimate_h = at::where(mask, (z - labels) / std::abs(options.eps), estimate_h);
    estimate_a = at::where(mask.unsqueeze(-1), (pair_parts(z) - pair_parts(labels)) / std::abs(options.eps), estimate_a);
  }
  at::Tensor surrogate = (h * estimate_h.detach()).sum() + (a * estimate_a.detach()).sum() + losses.sum();
  return {surrogate, losses.detach().squeeze(0)};
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

double EpsSchedule::value(int64_t step) const {
  TORCH_CHECK_VALUE(every >= 1 && minimum > 0 && start != 0 && std::isfinite(start) && rate >= 0,
                    "EpsSchedule: need start finite and non-zero, rate >= 0, every >= 1 and minimum > 0");
  const int64_t annealed = step - step % every;
  return std::copysign(std::max(minimum, std::abs(start) * std::exp(-rate * double(annealed))), start);
}

const std::vector<EstimatorInfo>& estimator_list() {
  static const std::vector<EstimatorInfo> list{
      {"exact", true, "exact gradient by enumerating every structure"},
      {"exact_traces", true, "exact gradient under the trace law by enumerating every recursive Gumbel-Max trace"},
      {"straight_through", false, "hard sample forward, gradient of the mean backward"},
      {"relaxed", false, "stochastic softmax trick (Gumbel-softmax), tau and hard"},
      {"reinforce", true, "score function with K samples and a leave-one-out baseline"},
      {"e_reinforce", true, "score of the exponential perturbation (seed 002 Eq. 1), K samples averaged", true},
      {"e_reinforce_plus", true, "score of the exponential perturbation, leave-one-out baseline", true},
      {"t_reinforce", true, "score of the recursive Gumbel-Max trace (seed 002 Eq. 2), K samples averaged", true},
      {"t_reinforce_plus", true, "score of the trace with the leave-one-out baseline (seed 002 Eq. 7)", true},
      {"relax", true, "RELAX (seed 002 Eq. 6) with the relaxed loss as control variate, tau", true},
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
  if (name == "straight_through") return straight_through(family, theta, f, generator);
  if (name == "relaxed") return relaxed(family, theta, f, options.relax, generator);
  if (name == "reinforce") return reinforce(family, theta, f, options.num_samples, generator);
  if (name == "e_reinforce") return e_reinforce(family, theta, f, options.num_samples, generator);
  if (name == "e_reinforce_plus") return e_reinforce_plus(family, theta, f, options.num_samples, generator);
  if (name == "t_reinforce") return t_reinforce(family, theta, f, options.num_samples, generator);
  if (name == "t_reinforce_plus") return t_reinforce_plus(family, theta, f, options.num_samples, generator);
  if (name == "relax") return relax(family, theta, f, {}, options.relax, options.num_samples, generator);
  if (name == "direct") return direct(family, theta, f, options.direct, generator);
  if (name == "arm") return arm(family, theta, f, options.num_samples, generator);
  return gumbel_rao(family, theta, f, options.relax, options.num_conditional, generator);
}

}  // namespace structgrad::estimators
