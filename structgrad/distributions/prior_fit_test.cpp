#include "structgrad/distributions/prior_fit.h"

#include <gtest/gtest.h>

#include <cmath>

namespace structgrad::distributions {
namespace {

at::Tensor poisson_pmf(double rate, int64_t length) {
  at::Tensor k = at::arange(length, at::kDouble);
  return (k * std::log(rate) - rate - at::lgamma(k + 1)).exp();
}

// Fig. 2: IGR-SB fits Poisson(50) without being told K; the fit, not the start, does the work.
TEST(PriorFit, StickBreakingFitsPoissonFiftyWithinAThousandSteps) {
  PriorFit fit = fit_prior(poisson_pmf(50, 100));
  std::cout << "Poisson(50), IGR-SB: TV " << fit.total_variation << " (argmax " << fit.argmax_total_variation
            << ", at the start " << fit.initial_total_variation << ")\n";
  EXPECT_LT(fit.total_variation, 0.05);
  EXPECT_LT(fit.argmax_total_variation, 0.05);
  EXPECT_GT(fit.initial_total_variation, 0.1);
}

// Its 20 categories hold 1e-7 of Poisson(50)'s mass: no parameters of the Gumbel-softmax can fit.
TEST(PriorFit, TwentyCategoryGumbelSoftmaxCannotFitPoissonFifty) {
  PriorFitOptions options;
  options.family = "concrete";
  options.num_categories = 20;
  options.steps = 200;
  PriorFit fit = fit_prior(poisson_pmf(50, 100), options);
  std::cout << "Poisson(50), Gumbel-softmax K = 20: TV " << fit.total_variation << "\n";
  EXPECT_GT(fit.total_variation, 0.99);
}

TEST(PriorFit, IgrFitsAUniformTarget) {
  PriorFitOptions options;
  options.family = "igr";
  options.num_samples = 256;
  // At 0.01 the draws are so nearly one-hot that 1000 steps leave TV at 0.096.
  options.temperature = 0.1;
  PriorFit fit = fit_prior(at::full({10}, 0.1, at::kDouble), options);
  std::cout << "uniform(10), IGR: TV " << fit.total_variation << "\n";
  EXPECT_LT(fit.total_variation, 0.05);
}

TEST(PriorFit, IsDeterministicUnderASeed) {
  PriorFitOptions options;
  options.steps = 20;
  options.eval_samples = 1000;
  options.seed = 7;
  PriorFit a = fit_prior(poisson_pmf(5, 30), options), b = fit_prior(poisson_pmf(5, 30), options);
  EXPECT_TRUE(at::equal(a.loc, b.loc) && at::equal(a.scale, b.scale));
  EXPECT_EQ(a.total_variation, b.total_variation);
  options.seed = 8;
  EXPECT_FALSE(at::equal(fit_prior(poisson_pmf(5, 30), options).loc, a.loc));
}

TEST(PriorFit, TotalVariationCountsTheTargetTail) {
  at::Tensor target = at::tensor({0.5, 0.3}, at::kDouble);  // 0.2 beyond
  EXPECT_NEAR(total_variation(at::tensor({0.5, 0.3, 0.2}, at::kDouble), target), 0.2, 1e-12);
  EXPECT_NEAR(total_variation(at::tensor({0.6, 0.4}, at::kDouble), target), 0.2, 1e-12);
}

TEST(PriorFit, BadInput) {
  PriorFitOptions options;
  options.family = "gumbel";
  EXPECT_THROW(fit_prior(poisson_pmf(5, 30), options), c10::ValueError);
  EXPECT_THROW(fit_prior(at::tensor({0.7, -0.1}, at::kDouble)), c10::ValueError);
  EXPECT_THROW(fit_prior(at::tensor({0.7, 0.6}, at::kDouble)), c10::ValueError);
  options = {};
  options.rho = 1.5;
  EXPECT_THROW(fit_prior(poisson_pmf(5, 30), options), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::distributions
