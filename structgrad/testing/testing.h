// Helpers for the GoogleTest suites only (not part of the installed API): seeded generators, a
// float64 finite-difference gradient check and chi-square critical values.
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>

namespace structgrad::testing {

// A CPU generator with a fixed seed, so that every draw in a test is the same on every run.
inline at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// Checks the analytic Jacobian of fn (tensor -> tensor) at x against central differences,
// like torch.autograd.gradcheck: returns the largest absolute difference.
inline double gradcheck_error(const std::function<at::Tensor(const at::Tensor&)>& fn, const at::Tensor& x0,
                              double step = 1e-6) {
  at::Tensor x = x0.detach().to(at::kDouble).clone().requires_grad_(true);
  at::Tensor y = fn(x);
  at::Tensor flat_y = y.flatten();
  const int64_t outputs = flat_y.numel(), inputs = x.numel();
  at::Tensor analytic = at::zeros({outputs, inputs}, at::kDouble);
  for (int64_t i = 0; i < outputs; ++i) {
    auto grad = torch::autograd::grad({flat_y[i]}, {x}, {}, /*retain_graph=*/true, false, /*allow_unused=*/true)[0];
    if (grad.defined()) analytic[i] = grad.flatten();
  }
  at::Tensor numeric = at::zeros({outputs, inputs}, at::kDouble);
  torch::NoGradGuard no_grad;
  for (int64_t j = 0; j < inputs; ++j) {
    at::Tensor plus = x.detach().clone(), minus = x.detach().clone();
    plus.view(-1)[j] += step;
    minus.view(-1)[j] -= step;
    numeric.select(1, j).copy_((fn(plus).flatten() - fn(minus).flatten()) / (2 * step));
  }
  return (analytic - numeric).abs().max().item<double>();
}

// Upper critical value of the chi-square distribution with `df` degrees of freedom at level
// alpha (Wilson-Hilferty; within 1% for df >= 3 at the levels used here).
inline double chi_square_critical(int64_t df, double alpha) {
  const double z = std::sqrt(2.0) * at::erfinv(at::scalar_tensor(1 - 2 * alpha, at::kDouble)).item<double>();
  const double a = 2.0 / (9.0 * double(df));
  return double(df) * std::pow(1 - a + z * std::sqrt(a), 3);
}

// Pearson's statistic of observed counts against expected probabilities.
inline double chi_square_statistic(const at::Tensor& counts, const at::Tensor& probabilities) {
  at::Tensor expected = probabilities.to(at::kDouble) * counts.sum().to(at::kDouble);
  return ((counts.to(at::kDouble) - expected).pow(2) / expected).sum().item<double>();
}

}  // namespace structgrad::testing
