// Direct optimization through argmax (seed 003) against the exact gradient by enumeration.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "structgrad/estimators/check.h"
#include "structgrad/estimators/estimators.h"
#include "structgrad/structures/bernoulli.h"
#include "structgrad/structures/categorical.h"
#include "structgrad/structures/ranking.h"
#include "structgrad/structures/spanning_tree.h"
#include "structgrad/structures/topk.h"

namespace structgrad::estimators {
namespace {

at::Tensor fixed(at::IntArrayRef sizes, uint64_t seed) {
  return at::randn(sizes, at::make_generator<at::CPUGeneratorImpl>(seed), at::kDouble);
}

at::Tensor gradient_of(const Estimate& e, const at::Tensor& theta) {
  return torch::autograd::grad({e.surrogate}, {theta})[0];
}

TEST(Direct, BiasShrinksAndVarianceGrowsAsEpsGoesToZero) {
  // Seed 003 Fig. 1: the trade-off, for both signs of eps.
  at::Tensor theta = fixed({5}, 1);
  LossFn f = quadratic_loss(fixed({5}, 2), fixed({5}, 3));
  for (double sign : {1.0, -1.0}) {
    std::vector<double> bias, variance;
    for (double eps : {2.0, 0.5, 0.1}) {
      Options options;
      options.direct.eps = sign * eps;
      auto report = check_estimator("direct", categorical::family(), theta, f, options, 20000, 4);
      bias.push_back(report.relative_bias);
      variance.push_back(report.variance);
    }
    EXPECT_GT(bias[0], bias[1]) << sign;
    EXPECT_GT(bias[1], bias[2]) << sign;
    EXPECT_LT(bias[2], 0.1) << sign;
    EXPECT_LT(variance[0], variance[1]) << sign;
    EXPECT_LT(variance[1], variance[2]) << sign;
  }
}

TEST(Direct, LinearFlipAndEnumerateAgreeOnALinearLoss) {
  at::Tensor theta = fixed({6, 5}, 5).requires_grad_();
  at::Tensor costs = fixed({6, 5}, 6);
  LossFn f = [&](const at::Tensor& x) { return (x * costs).sum(-1); };
  std::vector<at::Tensor> gradients;
  for (const char* argmax : {"enumerate", "linear", "flip"}) {
    DirectOptions options;
    options.eps = 0.7;
    options.argmax = argmax;
    options.costs = costs;
    gradients.push_back(gradient_of(direct(topk::family(2), theta, f, options, at::make_generator<at::CPUGeneratorImpl>(7)), theta));
  }
  EXPECT_TRUE(at::allclose(gradients[0], gradients[1]));
  EXPECT_TRUE(at::allclose(gradients[0], gradients[2]));
  EXPECT_GT(gradients[0].abs().sum().item<double>(), 0);
}

TEST(Direct, FlipWorksOnSymmetricFamilies) {
  at::Tensor a = fixed({5, 5}, 8);
  at::Tensor theta = ((a + a.t()) / 2).unsqueeze(0).repeat({4, 1, 1}).requires_grad_();
  at::Tensor b = fixed({5, 5}, 9);
  at::Tensor costs = (b + b.t()).unsqueeze(0).expand({4, 5, 5});
  LossFn f = [&](const at::Tensor& x) { return (x * costs).sum({-1, -2}) / 2; };  // each edge once
  DirectOptions linear, flip;
  linear.argmax = "linear";
  linear.costs = costs;
  flip.argmax = "flip";
  at::Tensor g_linear = gradient_of(direct(spanning_tree::family(), theta, f, linear, at::make_generator<at::CPUGeneratorImpl>(10)), theta);
  at::Tensor g_flip = gradient_of(direct(spanning_tree::family(), theta, f, flip, at::make_generator<at::CPUGeneratorImpl>(10)), theta);
  EXPECT_TRUE(at::allclose(g_linear, g_flip));
}

TEST(Direct, LabelsPullTowardsTheLabel) {
  at::Tensor theta = at::zeros({3, 4}, at::kDouble).requires_grad_();
  LossFn f = [](const at::Tensor& x) { return x.select(-1, 0) * 0; };
  DirectOptions options;
  options.eps = 0.5;
  options.labels = at::one_hot(at::tensor({2, 2, 2}, at::kLong), 4).to(at::kDouble);
  options.labelled = at::tensor({1, 0, 1}, at::kLong).to(at::kBool);
  at::Tensor g = gradient_of(direct(categorical::family(), theta, f, options, at::make_generator<at::CPUGeneratorImpl>(30)), theta);
  // A descent step (theta -= g) raises the label's score where labelled, nothing elsewhere
  // (f is constant, so the loss-augmented argmax is z* itself).
  EXPECT_LE(g[0][2].item<double>(), 0);
  EXPECT_LE(g[2][2].item<double>(), 0);
  EXPECT_EQ(g[1].abs().sum().item<double>(), 0);
  EXPECT_GT(g.abs().sum().item<double>(), 0);  // some z* differs from the label
}

TEST(Direct, EpsScheduleAnnealsEveryNSteps) {
  EpsSchedule schedule;
  schedule.rate = 1e-3;
  EXPECT_DOUBLE_EQ(schedule.value(0), 1.0);
  EXPECT_DOUBLE_EQ(schedule.value(999), 1.0);
  EXPECT_DOUBLE_EQ(schedule.value(1000), std::exp(-1.0));
  EXPECT_DOUBLE_EQ(schedule.value(100000), 0.1);
  schedule.start = -2.0;  // the other one-sided difference keeps its sign
  EXPECT_DOUBLE_EQ(schedule.value(0), -2.0);
  EXPECT_DOUBLE_EQ(schedule.value(100000), -0.1);
  schedule.start = 0;
  EXPECT_THROW(schedule.value(0), c10::ValueError);
}

TEST(Direct, BinaryLatentsWithFlipAndEnumerate) {
  // seed 003 §5: binary latents, the low-dimensional approximation and exact enumeration, both
  // with less bias at smaller eps.
  at::Tensor theta = fixed({6}, 21);
  LossFn f = quadratic_loss(fixed({6}, 22), fixed({6}, 23));
  for (const char* argmax : {"enumerate", "flip"}) {
    Options options;
    options.direct.argmax = argmax;
    options.direct.eps = 1.0;
    auto far = check_estimator("direct", bernoulli::family(), theta, f, options, 10000, 24);
    options.direct.eps = 0.1;
    auto near = check_estimator("direct", bernoulli::family(), theta, f, options, 10000, 24);
    EXPECT_LT(near.relative_bias, far.relative_bias) << argmax;
  }
}

TEST(Arm, IsUnbiasedAndNeedsBinaryChoices) {
  at::Tensor theta = fixed({5}, 25);
  LossFn f = quadratic_loss(fixed({5}, 26), fixed({5}, 27));
  Options options;
  options.num_samples = 2;
  auto report = check_estimator("arm", bernoulli::family(), theta, f, options, 20000, 28);
  EXPECT_TRUE(report.passed) << report.verdict;
  EXPECT_FALSE(report.bias_detected) << report.verdict;
  auto reinforce = check_estimator("reinforce", bernoulli::family(), theta, f, options, 20000, 29);
  EXPECT_LT(report.variance, reinforce.variance);
  EXPECT_THROW(arm(categorical::family(), theta, f), c10::ValueError);
}

TEST(Direct, BadInput) {
  at::Tensor theta = fixed({2, 4}, 11);
  LossFn f = [](const at::Tensor& x) { return x.sum(-1); };
  DirectOptions zero;
  zero.eps = 0;
  EXPECT_THROW(direct(categorical::family(), theta, f, zero), c10::ValueError);
  DirectOptions unknown;
  unknown.argmax = "gradient";
  EXPECT_THROW(direct(categorical::family(), theta, f, unknown), c10::ValueError);
  LossFn wrong = [](const at::Tensor& x) { return x; };
  EXPECT_THROW(direct(categorical::family(), theta, wrong, {}), c10::ValueError);
  EXPECT_THROW(direct(ranking::family(), theta, [](const at::Tensor& x) { return x.sum({-1, -2}); }, {}), c10::ValueError);
  DirectOptions no_costs;
  no_costs.argmax = "linear";
  EXPECT_THROW(direct(categorical::family(), theta, f, no_costs), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::estimators
