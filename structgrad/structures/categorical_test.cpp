#include "structgrad/structures/categorical.h"

#include <gtest/gtest.h>

#include "structgrad/testing/testing.h"

namespace structgrad::categorical {
namespace {

using testing::seeded;

TEST(Categorical, MapIsArgmax) {
  at::Tensor theta = at::tensor({0.1, 2.0, -1.0, 1.5}, at::kDouble).view({1, 4});
  EXPECT_TRUE(at::equal(map(theta), at::tensor({0.0, 1.0, 0.0, 0.0}, at::kDouble).view({1, 4})));
}

TEST(Categorical, LogPartitionAndMarginalsMatchEnumeration) {
  auto gen = seeded(3);
  for (double scale : {1.0, 50.0}) {
    at::Tensor theta = at::randn({4, 6}, gen, at::kDouble) * scale;
    at::Tensor all = enumerate(6);  // (N, n)
    at::Tensor scores = at::matmul(theta, all.t());  // (B, N)
    EXPECT_TRUE(at::allclose(log_partition(theta), at::logsumexp(scores, -1)));
    EXPECT_TRUE(at::allclose(marginals(theta), at::matmul(at::softmax(scores, -1), all)));
  }
}

TEST(Categorical, SampleFrequenciesMatchMarginals) {
  const int64_t draws = 40000, n = 5;
  at::Tensor theta = at::tensor({0.5, -1.0, 1.2, 0.0, -0.3}, at::kDouble);
  at::Tensor x = sample(theta.expand({draws, n}), seeded(4));
  const double statistic = testing::chi_square_statistic(x.sum(0), marginals(theta));
  EXPECT_LT(statistic, testing::chi_square_critical(n - 1, 1e-3));
}

TEST(Categorical, SameSeedSameSampleAcrossDtypesAndVerbs) {
  at::Tensor theta = at::randn({50, 7}, seeded(5), at::kDouble);
  at::Tensor x64 = sample(theta, seeded(9));
  EXPECT_TRUE(at::equal(x64, sample(theta.to(at::kFloat), seeded(9)).to(at::kDouble)));
  EXPECT_TRUE(at::equal(x64, trace(theta, seeded(9)).structure));
  EXPECT_TRUE(at::equal(x64, relax(theta, 0.1, "entropy", true, seeded(9)).detach()));
}

TEST(Categorical, RelaxLiesOnSimplexAndHardKeepsTheRelaxedGradient) {
  at::Tensor theta = at::randn({8, 5}, seeded(6), at::kDouble);
  for (const char* regularizer : {"entropy", "euclidean"}) {
    at::Tensor soft = relax(theta, 0.7, regularizer, false, seeded(1));
    EXPECT_TRUE(at::allclose(soft.sum(-1), at::ones({8}, at::kDouble)));
    EXPECT_TRUE((soft >= 0).all().item<bool>());

    at::Tensor weights = at::randn({8, 5}, seeded(2), at::kDouble);
    at::Tensor leaf_soft = theta.clone().requires_grad_(true), leaf_hard = theta.clone().requires_grad_(true);
    (relax(leaf_soft, 0.7, regularizer, false, seeded(1)) * weights).sum().backward();
    (relax(leaf_hard, 0.7, regularizer, true, seeded(1)) * weights).sum().backward();
    EXPECT_TRUE(at::allclose(leaf_soft.grad(), leaf_hard.grad())) << regularizer;
  }
}

TEST(Categorical, RelaxGradcheckInFloat64) {
  at::Tensor theta = at::randn({2, 4}, seeded(7), at::kDouble);
  for (const char* regularizer : {"entropy", "euclidean"}) {
    auto fn = [&](const at::Tensor& t) { return relax(t, 0.8, regularizer, false, seeded(11)); };
    EXPECT_LT(testing::gradcheck_error(fn, theta), 1e-6) << regularizer;
  }
}

TEST(Categorical, ExtremeLogitsAndLowTemperatureStayFinite) {
  at::Tensor theta = (at::randn({16, 6}, seeded(8), at::kDouble) * 1e4).requires_grad_(true);
  for (const char* regularizer : {"entropy", "euclidean"}) {
    at::Tensor y = relax(theta, 1e-3, regularizer, false, seeded(3));
    (y * at::arange(6, at::kDouble)).sum().backward();
    EXPECT_TRUE(at::isfinite(y).all().item<bool>());
    EXPECT_TRUE(at::isfinite(theta.grad()).all().item<bool>());
    theta.grad().zero_();
  }
  EXPECT_TRUE(at::isfinite(trace_log_prob(theta, trace(theta, seeded(1)).trace)).all().item<bool>());
}

TEST(Categorical, TraceLogProbSumsToOneOverTraces) {
  at::Tensor theta = at::randn({3, 6}, seeded(9), at::kDouble);
  at::Tensor total = at::zeros({3}, at::kDouble);
  for (int64_t i = 0; i < 6; ++i)
    total += trace_log_prob(theta, at::full({3, 1}, i, at::kLong)).exp();
  EXPECT_TRUE(at::allclose(total, at::ones({3}, at::kDouble)));
}

TEST(Categorical, ConditionalGumbelReproducesTheTraceAndItsLaw) {
  at::Tensor theta = at::tensor({0.3, -0.5, 1.0}, at::kDouble);
  const int64_t draws = 60000;
  at::Tensor batch = theta.expand({draws, 3});
  at::Tensor given = at::zeros({draws, 1}, at::kLong);  // condition on category 0 winning
  at::Tensor conditional = conditional_gumbel(batch, given, seeded(12));
  EXPECT_TRUE(at::equal(conditional.argmax(-1), given.squeeze(-1)));

  // Rejection sampling of theta + G given argmax == 0, compared coordinate by coordinate.
  at::Tensor perturbed = batch + (-at::log(-at::log(at::rand({draws, 3}, seeded(13), at::kDouble))));
  at::Tensor accepted = perturbed.index({perturbed.argmax(-1) == 0});
  ASSERT_GT(accepted.size(0), 10000);
  for (int64_t i = 0; i < 3; ++i) {
    const double a = conditional.select(1, i).mean().item<double>(), b = accepted.select(1, i).mean().item<double>();
    const double se = std::sqrt(conditional.select(1, i).var().item<double>() / draws +
                                accepted.select(1, i).var().item<double>() / accepted.size(0));
    EXPECT_LT(std::abs(a - b), 4 * se) << "coordinate " << i;
  }
}

TEST(Categorical, BadInputNamesTheArgument) {
  at::Tensor theta = at::zeros({2, 3}, at::kDouble);
  auto message = [](const std::function<void()>& fn) {
    try {
      fn();
    } catch (const c10::ValueError& e) {
      return std::string(e.what_without_backtrace());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] { relax(theta, 0.0); }).find("tau must be positive"), std::string::npos);
  EXPECT_NE(message([&] { relax(theta, 1.0, "l1"); }).find("regularizer"), std::string::npos);
  EXPECT_NE(message([&] { sample(at::full({2, 3}, NAN, at::kDouble)); }).find("theta contains NaN"), std::string::npos);
  EXPECT_NE(message([&] { sample(at::full({2, 3}, INFINITY, at::kDouble)); }).find("theta must be finite"), std::string::npos);
  EXPECT_NE(message([&] { map(at::empty({2, 0}, at::kDouble)); }).find("must not be empty"), std::string::npos);
  EXPECT_NE(message([&] { map(at::zeros({}, at::kDouble)); }).find("at least 1 dimension"), std::string::npos);
  EXPECT_NE(message([&] { trace_log_prob(theta, at::full({2, 1}, 3, at::kLong)); }).find("outside [0, 3)"), std::string::npos);
  EXPECT_NE(message([&] { trace_log_prob(theta, at::zeros({2}, at::kLong)); }).find("trace must have shape (2, 1)"), std::string::npos);
}

}  // namespace
}  // namespace structgrad::categorical
