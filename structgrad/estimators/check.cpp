#include "structgrad/estimators/check.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "structgrad/core/check.h"

namespace structgrad::estimators {
namespace {

// d/d theta of the estimator's surrogate for `rows` copies of theta: one draw per row.
at::Tensor gradient_draws(const std::string& estimator, const Family& family,
                          const at::Tensor& theta, const LossFn& f, const Options& options,
                          int64_t rows, GeneratorOpt generator) {
  std::vector<int64_t> sizes{rows};
  sizes.insert(sizes.end(), theta.sizes().begin(), theta.sizes().end());
  at::Tensor batch = theta.detach().unsqueeze(0).expand(sizes).clone().requires_grad_(true);
  Estimate est = estimate(estimator, family, batch, f, options, generator);
  auto grads = torch::autograd::grad({est.surrogate}, {batch}, {}, false, false, /*allow_unused=*/true);
  return grads[0].defined() ? grads[0].detach() : at::zeros_like(batch);
}

double normal_quantile(double p) {
  return std::sqrt(2.0) * at::erfinv(at::scalar_tensor(2 * p - 1, at::kDouble)).item<double>();
}

}  // namespace

LossFn quadratic_loss(const at::Tensor& a, const at::Tensor& b) {
  return [a, b](const at::Tensor& x) {
    const int64_t event_dim = a.dim();
    std::vector<int64_t> dims;
    for (int64_t i = x.dim() - event_dim; i < x.dim(); ++i) dims.push_back(i);
    at::Tensor linear = (x * a.to(x.scalar_type())).sum(dims);
    at::Tensor projection = (x * b.to(x.scalar_type())).sum(dims);
    return linear + projection * projection;
  };
}

CheckReport check_estimator(const std::string& estimator, const Family& family,
                            const at::Tensor& theta, const LossFn& f, const Options& options,
                            int64_t draws, uint64_t seed, double alpha) {
  TORCH_CHECK_VALUE(theta.dim() == family.event_dim, "check: theta must be one ", family.name,
                    " instance with ", family.event_dim, " dimension(s), got shape ",
                    check::shape_string(theta.sizes()));
  check::in_range("check", "draws", draws, 2, int64_t(1) << 40);
  TORCH_CHECK_VALUE(alpha > 0 && alpha < 1, "check: alpha must be in (0, 1), got ", alpha);

  CheckReport report;
  report.estimator = estimator;
  report.family = family.name;
  report.draws = draws;
  report.claims_unbiased = estimator_info(estimator).unbiased;

  at::Tensor exact_theta = theta.detach().to(at::kDouble);
  // The trace estimators' expectation is under the law of family.trace (which differs from
  // sample's for arborescences): compare them with the exact gradient over traces.
  // The Gibbs estimators' is under the Gibbs law.
  const EstimatorInfo& info = estimator_info(estimator);
  const char* reference =
      info.gibbs_law ? "exact_gibbs" : info.trace_law && family.enumerate_traces ? "exact_traces" : "exact";
  report.exact_gradient = gradient_draws(reference, family, exact_theta, f, options, 1, c10::nullopt)[0];

  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor samples =
      gradient_draws(estimator, family, exact_theta, f, options, draws, generator).flatten(1);
  at::Tensor exact_flat = report.exact_gradient.flatten();
  at::Tensor mean = samples.mean(0);
  at::Tensor std_error = samples.std(0, /*unbiased=*/true) / std::sqrt(double(draws));
  at::Tensor bias = mean - exact_flat;
  // A coordinate with zero spread and nonzero bias is infinitely significant; 0/0 is no bias.
  at::Tensor z = at::where(std_error > 0, bias.abs() / std_error,
                           at::where(bias.abs() > 1e-12, at::full_like(bias, INFINITY),
                                     at::zeros_like(bias)));

  const int64_t coordinates = exact_flat.numel();
  report.mean = mean.view(theta.sizes());
  report.standard_error = std_error.view(theta.sizes());
  report.bias = bias.view(theta.sizes());
  report.max_abs_z = z.max().item<double>();
  report.critical_z = normal_quantile(1 - alpha / (2.0 * coordinates));
  const double exact_norm = exact_flat.norm().item<double>();
  report.relative_bias = bias.norm().item<double>() / std::max(exact_norm, 1e-300);
  report.variance = samples.var(0, /*unbiased=*/true).sum().item<double>();
  report.bias_detected = report.max_abs_z > report.critical_z;
  report.passed = !(report.claims_unbiased && report.bias_detected);

  std::ostringstream verdict;
  if (!report.bias_detected)
    verdict << "consistent with unbiased (max |z| " << report.max_abs_z << " <= " << report.critical_z << ")";
  else
    verdict << "biased: relative bias " << report.relative_bias << " (max |z| " << report.max_abs_z
            << " > " << report.critical_z << ")"
            << (report.claims_unbiased ? " -- FAIL, this estimator should be unbiased"
                                       : ", as expected of this estimator");
  report.verdict = verdict.str();
  return report;
}

}  // namespace structgrad::estimators
