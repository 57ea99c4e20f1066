#include "structgrad/experiments/bias_variance.h"

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "structgrad/estimators/estimators.h"
#include "structgrad/structures/categorical.h"

namespace structgrad::experiments {
namespace {

// Linear losses of 3 instances over 4 categories, and their exact gradient.
struct MomentsCase {
  at::Tensor theta = at::tensor({0.5, -1.0, 0.2, 1.5, 0.0, 0.3, -0.7, 0.9, 1.2, -0.4, 0.1, 0.0}, at::kDouble).view({3, 4});
  at::Tensor costs = at::tensor({3.0, -1.0, 2.0, 0.5}, at::kDouble);
  estimators::LossFn f = [this](const at::Tensor& z) { return (z * costs).sum(-1); };
  at::Tensor exact_gradient() const {
    at::Tensor leaf = theta.clone().requires_grad_();
    return torch::autograd::grad({estimators::exact(categorical::family(), leaf, f).surrogate}, {leaf})[0];
  }
};

TEST(GradientMoments, TheExactGradientHasNeitherBiasNorSpread) {
  MomentsCase c;
  auto surrogate = [&](const at::Tensor& rows) { return estimators::exact(categorical::family(), rows, c.f).surrogate; };
  const GradientMoments m = gradient_moments(c.theta, c.exact_gradient(), 100, 30, surrogate);
  EXPECT_LT(m.bias, 1e-12);
  EXPECT_LT(m.std, 1e-12);
  EXPECT_NEAR(m.scale, c.exact_gradient().abs().mean().item<double>(), 1e-15);
}

// REINFORCE is unbiased: what is left of its bias once the mean's noise is taken off is small
// against its spread; the Gumbel-softmax at tau = 2 is biased, far beyond its noise.
TEST(GradientMoments, SeparatesBiasFromNoise) {
  MomentsCase c;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(3);
  const int64_t draws = 4000;
  auto reinforce = [&](const at::Tensor& rows) {
    return estimators::reinforce(categorical::family(), rows, c.f, 2, generator).surrogate;
  };
  const GradientMoments unbiased = gradient_moments(c.theta, c.exact_gradient(), draws, 500, reinforce);
  EXPECT_GT(unbiased.std, 0.5);
  EXPECT_LT(unbiased.bias, 2 * unbiased.std / std::sqrt(double(draws)));
  RelaxOptions hot;
  hot.tau = 2.0;
  auto relaxed = [&](const at::Tensor& rows) {
    return estimators::relaxed(categorical::family(), rows, c.f, hot, generator).surrogate;
  };
  const GradientMoments biased = gradient_moments(c.theta, c.exact_gradient(), draws, 500, relaxed);
  EXPECT_GT(biased.bias, 10 * biased.std / std::sqrt(double(draws)));
}

TEST(GradientMoments, BadArgumentsAreNamed) {
  MomentsCase c;
  auto surrogate = [&](const at::Tensor& rows) { return estimators::exact(categorical::family(), rows, c.f).surrogate; };
  EXPECT_THROW(gradient_moments(c.theta, c.exact_gradient(), 1, 10, surrogate), c10::ValueError);
  EXPECT_THROW(gradient_moments(c.theta, c.exact_gradient().t(), 10, 10, surrogate), c10::ValueError);
  EXPECT_THROW(gradient_moments(c.theta.flatten(), c.exact_gradient(), 10, 10, surrogate), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::experiments
