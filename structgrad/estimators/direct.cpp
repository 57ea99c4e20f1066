// Direct optimization through argmax (seed 003): for a family, and for the pairwise-binary latent.
#include <cmath>

#include "structgrad/core/check.h"
#include "structgrad/estimators/common.h"
#include "structgrad/structures/bernoulli.h"

namespace structgrad::estimators {

using namespace detail;

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
  const Family unaries = bernoulli::family();
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

double EpsSchedule::value(int64_t step) const {
  TORCH_CHECK_VALUE(every >= 1 && minimum > 0 && start != 0 && std::isfinite(start) && rate >= 0,
                    "EpsSchedule: need start finite and non-zero, rate >= 0, every >= 1 and minimum > 0");
  const int64_t annealed = step - step % every;
  return std::copysign(std::max(minimum, std::abs(start) * std::exp(-rate * double(annealed))), start);
}

}  // namespace structgrad::estimators
