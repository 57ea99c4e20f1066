#include "structgrad/distributions/prior_fit.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/adam.h>

#include <cmath>

#include "structgrad/distributions/concrete.h"
#include "structgrad/distributions/igr.h"
#include "structgrad/core/check.h"

namespace structgrad::distributions {
namespace {

at::Tensor pad_to(const at::Tensor& t, int64_t width) { return at::constant_pad_nd(t, {0, width - t.size(-1)}); }

// Where the parameters start (see the header): (D,) means for the family.
at::Tensor initial_loc(const at::Tensor& p0, int64_t categories, const PriorFitOptions& options) {
  at::Tensor head = pad_to(p0, std::max(categories, p0.size(0))).narrow(0, 0, categories);
  if (options.family == "concrete") return head.clamp_min(1e-300).log();
  if (options.family == "igr") return at::zeros({categories - 1}, at::kDouble);
  at::Tensor sticks = head.narrow(0, 0, categories - 1);
  at::Tensor left = (1 - (at::cumsum(sticks, 0) - sticks)).clamp_min(1e-300);
  at::Tensor hazard = (sticks / left).clamp(1e-6, 1 - 1e-6);
  return options.init_scale * std::sqrt(2.0) * at::erfinv(2 * hazard - 1);
}

}  // namespace

double total_variation(const at::Tensor& p, const at::Tensor& target) {
  const int64_t width = std::max(p.size(-1), target.size(-1));
  at::Tensor q = pad_to(target.to(at::kDouble), width);
  const double tail = std::max(0.0, 1.0 - q.sum().item<double>());
  return 0.5 * ((pad_to(p.to(at::kDouble), width) - q).abs().sum().item<double>() + tail);
}

PriorFit fit_prior(const at::Tensor& target, const PriorFitOptions& options) {
  const char* name = "fit_prior";
  check::logits(name, "target", target, 1);
  TORCH_CHECK_VALUE(target.dim() == 1 && target.size(0) >= 2, name,
                    ": target must be a pmf of shape (L,), L >= 2, got ", check::shape_string(target.sizes()));
  TORCH_CHECK_VALUE((target >= 0).all().item<bool>() && target.sum().item<double>() <= 1 + 1e-6, name,
                    ": target must be nonnegative and sum to at most 1");
  TORCH_CHECK_VALUE(options.family == "igr" || options.family == "igr_sb" || options.family == "concrete", name,
                    ": family must be \"igr\", \"igr_sb\" or \"concrete\", got \"", options.family, "\"");
  const int64_t categories = options.num_categories ? options.num_categories : target.size(0);
  check::in_range(name, "num_categories", categories, 2, INT64_MAX);
  check::in_range(name, "steps", options.steps, 0, INT64_MAX);
  check::in_range(name, "num_samples", options.num_samples, 1, INT64_MAX);
  check::in_range(name, "eval_samples", options.eval_samples, 1, INT64_MAX);
  check::positive(name, "learning_rate", options.learning_rate);
  check::positive(name, "init_scale", options.init_scale);
  check::positive(name, "temperature", options.temperature);
  check::positive(name, "delta", options.delta);
  TORCH_CHECK_VALUE(options.rho > 0 && options.rho < 1, name, ": rho must be in (0, 1), got ", options.rho);

  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  at::Tensor p0 = target.to(at::kDouble);
  at::Tensor loc = initial_loc(p0, categories, options);
  at::Tensor log_scale = at::full_like(loc, std::log(options.init_scale));
  // Draws z (n, W) under the current parameters.
  auto draw = [&](int64_t n) -> at::Tensor {
    if (options.family == "concrete") return ExpConcrete(loc, options.temperature).rsample({n}, generator).exp();
    const at::Tensor scale = log_scale.exp();
    if (options.family == "igr") return IGR(loc, scale, options.temperature, options.delta).rsample({n}, generator);
    return IGRStickBreaking(loc, scale, options.temperature, options.delta, options.rho).rsample({n}, generator);
  };
  auto estimate = [&](const at::Tensor& z) { return (options.hard ? hard(z) : z).mean(0); };

  PriorFit fit;
  {
    at::NoGradGuard no_grad;
    fit.initial_total_variation = total_variation(estimate(draw(options.eval_samples)), p0);
  }
  std::vector<at::Tensor> parameters{loc.requires_grad_(true)};
  if (options.family != "concrete") parameters.push_back(log_scale.requires_grad_(true));
  torch::optim::Adam optimizer(parameters, torch::optim::AdamOptions(options.learning_rate));
  for (int64_t step = 0; step < options.steps; ++step) {
    optimizer.zero_grad();
    at::Tensor probabilities = estimate(draw(options.num_samples));
    const int64_t width = std::max(probabilities.size(0), p0.size(0));
    (pad_to(probabilities, width) - pad_to(p0, width)).square().sum().backward();
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options())
          .lr(options.learning_rate * double(options.steps - step) / double(options.steps));
    optimizer.step();
  }

  at::NoGradGuard no_grad;
  fit.loc = loc.detach();
  if (options.family != "concrete") fit.scale = log_scale.detach().exp();
  at::Tensor z = draw(options.eval_samples);
  fit.probabilities = estimate(z);
  fit.total_variation = total_variation(fit.probabilities, p0);
  fit.argmax_total_variation = total_variation(hard(z).mean(0), p0);
  return fit;
}

}  // namespace structgrad::distributions
