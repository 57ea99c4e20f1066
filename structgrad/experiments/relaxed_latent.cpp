#include "structgrad/experiments/relaxed_latent.h"

#include <c10/util/Exception.h>

#include <cmath>
#include <memory>

#include "structgrad/distributions/concrete.h"
#include "structgrad/distributions/igr.h"
#include "structgrad/distributions/prior_fit.h"

namespace structgrad::experiments {

namespace dist = structgrad::distributions;

torch::nn::Sequential dense_network(const std::vector<int64_t>& widths) {
  TORCH_CHECK_VALUE(widths.size() >= 2, "dense_network: give at least the input and output widths");
  torch::nn::Sequential net;
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    if (i) net->push_back(torch::nn::ReLU());
    net->push_back(torch::nn::Linear(widths[i], widths[i + 1]));
  }
  return net;
}

void check_relaxation(const char* where, const LatentRelaxation& relaxation) {
  const std::string& r = relaxation.relaxation;
  TORCH_CHECK_VALUE(r == "gs" || r == "igr" || r == "igr_planar" || r == "igr_sb", where,
                    ": relaxation must be \"gs\", \"igr\", \"igr_planar\" or \"igr_sb\", got \"", r, "\"");
  TORCH_CHECK_VALUE(std::isfinite(relaxation.temperature) && relaxation.temperature > 0, where,
                    ": temperature must be positive, got ", relaxation.temperature);
  TORCH_CHECK_VALUE(r != "igr_planar" || relaxation.planar_layers >= 1, where, ": igr_planar needs planar_layers >= 1");
}

int64_t parameters_per_variable(const LatentRelaxation& relaxation, int64_t categories) {
  return relaxation.relaxation == "gs" ? categories : 2 * (categories - 1);
}

LatentPrior fit_uniform_prior(const LatentRelaxation& relaxation, int64_t categories, int64_t steps, uint64_t seed) {
  if (relaxation.relaxation == "gs") return {};
  dist::PriorFitOptions options;
  // IGR-Planar's prior is IGR's Gaussian pushed through the learned flow.
  options.family = relaxation.relaxation == "igr_sb" ? "igr_sb" : "igr";
  options.num_categories = categories;
  options.temperature = relaxation.temperature;
  options.steps = steps;
  options.eval_samples = 20000;
  options.seed = seed;
  dist::PriorFit fit = dist::fit_prior(at::full({categories}, 1.0 / double(categories), at::kDouble), options);
  return {fit.loc.to(at::kFloat), fit.scale.to(at::kFloat), fit.total_variation};
}

LatentDraw draw_relaxed_latent(const LatentRelaxation& relaxation, const at::Tensor& h, int64_t categories,
                               const LatentPrior& prior, const PlanarLayers& planar, at::Generator& generator,
                               VanishingGradients* vanishing) {
  TORCH_CHECK_VALUE(h.dim() == 3 && h.size(-1) == parameters_per_variable(relaxation, categories),
                    "draw_relaxed_latent: h must be (B, V, ", parameters_per_variable(relaxation, categories),
                    "), got ", h.sizes());
  // The sample reads its own copy of h, so that a hook on it sees the gradient through the sample
  // alone (the KL's goes to h directly).
  const bool counted = vanishing && h.requires_grad();
  at::Tensor h_sample = counted ? h.clone() : h;
  if (counted)
    h_sample.register_hook([vanishing](const at::Tensor& grad) {
      vanishing->zero += (grad == 0).sum().item<double>();
      vanishing->total += double(grad.numel());
    });
  const double tau = relaxation.temperature;
  if (relaxation.relaxation == "gs") {
    dist::ExpConcrete q(h, tau), q_sample(h_sample, tau), p(at::zeros({categories}, h.options()), tau);
    at::Tensor y = q_sample.rsample({}, generator);
    return {y.exp().flatten(1), (q.log_prob(y) - p.log_prob(y)).sum(-1)};
  }
  const int64_t dim = categories - 1;
  auto loc_of = [dim](const at::Tensor& t) { return t.narrow(-1, 0, dim); };
  auto scale_of = [dim](const at::Tensor& t) { return at::softplus(t.narrow(-1, dim, dim)) + 1e-4; };
  const at::Tensor loc = loc_of(h), scale = scale_of(h), sample_loc = loc_of(h_sample), sample_scale = scale_of(h_sample);
  auto make = [&](const at::Tensor& l, const at::Tensor& s) -> std::unique_ptr<dist::InvertibleGaussian> {
    if (relaxation.relaxation == "igr") return std::make_unique<dist::IGR>(l, s, tau);
    if (relaxation.relaxation == "igr_planar")
      return std::make_unique<dist::IGRPlanar>(l, s, planar.u, planar.w, planar.b, tau);
    return std::make_unique<dist::IGRStickBreaking>(l, s, tau, 0.1, 0.99);
  };
  at::Tensor z = make(sample_loc, sample_scale)->rsample({}, generator);
  z = at::constant_pad_nd(z, {0, categories - z.size(-1)});  // truncated IGR-SB draws
  LatentDraw draw{z.flatten(1), {}};
  if (prior.loc.defined()) draw.kl = dist::kl_divergence(*make(loc, scale), *make(prior.loc, prior.scale)).sum(-1);
  return draw;
}

}  // namespace structgrad::experiments
