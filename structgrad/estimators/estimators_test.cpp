#include "structgrad/estimators/estimators.h"

#include <gtest/gtest.h>

#include "structgrad/estimators/check.h"
#include "structgrad/structures/arborescence.h"
#include "structgrad/structures/categorical.h"
#include "structgrad/structures/registry.h"
#include "structgrad/testing/testing.h"

namespace structgrad::estimators {
namespace {

Family categorical_family() { return categorical::family(); }

at::Tensor fixed(int64_t n, uint64_t seed) {
  return at::randn({n}, at::make_generator<at::CPUGeneratorImpl>(seed), at::kDouble);
}

TEST(Estimators, ExactMatchesTheAnalyticCategoricalGradient) {
  at::Tensor theta = fixed(6, 1).view({1, 6}).requires_grad_(true);
  at::Tensor costs = fixed(6, 2);
  auto f = [&](const at::Tensor& x) { return (x * costs).sum(-1); };
  Estimate e = exact(categorical_family(), theta, f);
  e.surrogate.backward();
  at::Tensor p = at::softmax(theta.detach(), -1);
  at::Tensor expected = p * (costs - (p * costs).sum(-1, true));
  EXPECT_TRUE(at::allclose(theta.grad(), expected));
  EXPECT_TRUE(at::allclose(e.loss, (p * costs).sum(-1)));
}

TEST(Estimators, CheckPassesUnbiasedAndFlagsRelaxedBias) {
  at::Tensor theta = fixed(5, 3);
  LossFn f = quadratic_loss(fixed(5, 4), fixed(5, 5));
  Options options;
  options.num_samples = 4;
  for (const char* name : {"exact", "reinforce"}) {
    CheckReport report = check_estimator(name, categorical_family(), theta, f, options, 20000, 7);
    EXPECT_TRUE(report.passed) << name << ": " << report.verdict;
    EXPECT_FALSE(report.bias_detected) << name << ": " << report.verdict;
  }
  options.relax.tau = 0.5;
  for (const char* name : {"relaxed", "straight_through"}) {
    CheckReport report = check_estimator(name, categorical_family(), theta, f, options, 20000, 7);
    EXPECT_TRUE(report.bias_detected) << name << ": " << report.verdict;
    EXPECT_TRUE(report.passed) << name;  // biased estimators only report their bias
    EXPECT_GT(report.relative_bias, 0.05) << name;
  }
}

TEST(Estimators, CheckFailsAnEstimatorThatClaimsUnbiasednessWrongly) {
  // The check must be able to fail: this f changes after its first call (the one that gives the
  // exact gradient), so the estimator's draws estimate the gradient of another function.
  at::Tensor theta = fixed(4, 8);
  LossFn f = quadratic_loss(fixed(4, 9), fixed(4, 10));
  Options options;
  options.num_samples = 2;
  int calls = 0;
  LossFn drifting = [&](const at::Tensor& x) { return f(x) + (calls++ == 0 ? 0.0 : 1.0) * x.select(-1, 0); };
  CheckReport report = check_estimator("reinforce", categorical_family(), theta, drifting, options, 20000, 1);
  EXPECT_TRUE(report.bias_detected) << report.verdict;
  EXPECT_FALSE(report.passed);
}

TEST(Estimators, SurrogateAlsoTrainsWhatFClosesOver) {
  at::Tensor theta = fixed(5, 11).view({1, 5}).requires_grad_(true);
  at::Tensor weights = fixed(5, 12).requires_grad_(true);
  auto f = [&](const at::Tensor& x) { return (x * weights).sum(-1); };
  Estimate e = reinforce(categorical_family(), theta, f, 4, at::make_generator<at::CPUGeneratorImpl>(0));
  e.surrogate.backward();
  ASSERT_TRUE(weights.grad().defined());
  EXPECT_NEAR(weights.grad().sum().item<double>(), 1.0, 1e-12);  // each sample is one-hot
}

TEST(Estimators, BadInput) {
  at::Tensor theta = at::zeros({2, 3}, at::kDouble);
  auto f = [](const at::Tensor& x) { return x.sum(-1); };
  EXPECT_THROW(reinforce(categorical_family(), theta, f, 1), c10::ValueError);
  auto wrong_shape = [](const at::Tensor& x) { return x.sum(); };
  EXPECT_THROW(relaxed(categorical_family(), theta, wrong_shape, {}), c10::ValueError);
  RelaxOptions cold;
  cold.tau = -1;
  EXPECT_THROW(relaxed(categorical_family(), theta, f, cold), c10::ValueError);
  EXPECT_THROW(estimate("nope", categorical_family(), theta, f, {}), c10::ValueError);
  EXPECT_THROW(family("nope"), c10::ValueError);
}

// The arborescences' perturb-and-MAP law has no closed form, so `exact` must refuse them and
// say where the exact gradient is: under the recursive law, by exact_traces.
TEST(Estimators, ExactRefusesArborescencesAndPointsToExactTraces) {
  at::Tensor theta = at::randn({2, 3, 3}, at::make_generator<at::CPUGeneratorImpl>(4), at::kDouble);
  auto f = [](const at::Tensor& x) { return x.select(-2, 1).select(-1, 2); };
  try {
    exact(arborescence::family(), theta, f);
    ADD_FAILURE() << "exact accepted the arborescence family";
  } catch (const c10::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("no closed-form probability"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("exact_traces"), std::string::npos) << e.what();
  }
  at::Tensor leaf = theta.clone().requires_grad_(true);
  Estimate e = exact_traces(arborescence::family(), leaf, f);
  e.surrogate.backward();
  EXPECT_TRUE(at::isfinite(leaf.grad()).all().item<bool>());
  // f is the indicator of the edge 1 -> 2 (root 0): its expectation is a probability.
  EXPECT_TRUE(((e.loss > 0) & (e.loss < 1)).all().item<bool>()) << e.loss;
}

}  // namespace
}  // namespace structgrad::estimators
