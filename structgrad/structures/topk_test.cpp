#include "structgrad/structures/topk.h"

#include <gtest/gtest.h>

#include "structgrad/estimators/check.h"
#include "structgrad/testing/testing.h"

namespace structgrad::topk {
namespace {

using testing::seeded;

TEST(Topk, MapIsTheBestSubsetByEnumeration) {
  at::Tensor theta = at::randn({20, 7}, seeded(1), at::kDouble);
  for (int64_t k : {0, 1, 3, 7}) {
    at::Tensor all = enumerate(7, k);
    at::Tensor best = all.index_select(0, at::matmul(theta, all.t()).argmax(-1));
    EXPECT_TRUE(at::equal(map(theta, k), best)) << "k=" << k;
  }
}

TEST(Topk, LogProbIsADistributionAndMatchesSampleFrequencies) {
  const int64_t n = 5, k = 2, draws = 40000;
  at::Tensor theta = at::tensor({0.8, -0.4, 0.1, 1.3, -1.0}, at::kDouble);
  at::Tensor all = enumerate(n, k);  // (10, 5)
  at::Tensor p = log_prob(theta, all, k).exp();
  EXPECT_NEAR(p.sum().item<double>(), 1.0, 1e-12);

  at::Tensor x = sample(theta.expand({draws, n}), k, seeded(2));
  // Which enumerated subset each draw is: the one with k shared items.
  at::Tensor which = at::matmul(x, all.t()).argmax(-1);
  at::Tensor counts = at::bincount(which, {}, all.size(0));
  EXPECT_LT(testing::chi_square_statistic(counts, p), testing::chi_square_critical(all.size(0) - 1, 1e-3));
}

TEST(Topk, LogProbWithOneItemIsTheSoftmax) {
  at::Tensor theta = at::randn({3, 6}, seeded(3), at::kDouble);
  at::Tensor all = enumerate(6, 1).unsqueeze(1).expand({6, 3, 6});
  EXPECT_TRUE(at::allclose(log_prob(theta, all, 1), at::log_softmax(theta, -1).t()));
}

TEST(Topk, RelaxGradcheckAndHardForward) {
  at::Tensor theta = at::randn({2, 6}, seeded(4), at::kDouble);
  for (const char* regularizer : {"exponential_family", "euclidean", "categorical_entropy", "binary_entropy"}) {
    auto fn = [&](const at::Tensor& t) { return relax(t, 3, 0.7, regularizer, false, seeded(5)); };
    EXPECT_LT(testing::gradcheck_error(fn, theta), 1e-6) << regularizer;
    at::Tensor soft = fn(theta);
    EXPECT_TRUE(at::allclose(soft.sum(-1), at::full({2}, 3.0, at::kDouble))) << regularizer;
    EXPECT_TRUE(at::equal(relax(theta, 3, 0.7, regularizer, true, seeded(5)).detach(), sample(theta, 3, seeded(5))));
  }
}

TEST(Topk, LowTemperatureAndHugeLogitsStayFinite) {
  at::Tensor theta = (at::randn({8, 12}, seeded(6), at::kDouble) * 1e4).requires_grad_(true);
  for (const char* regularizer : {"exponential_family", "euclidean", "categorical_entropy", "binary_entropy"}) {
    at::Tensor y = relax(theta, 4, 1e-3, regularizer, false, seeded(7));
    (y * at::arange(12, at::kDouble)).sum().backward();
    EXPECT_TRUE(at::isfinite(y).all().item<bool>()) << regularizer;
    EXPECT_TRUE(at::isfinite(theta.grad()).all().item<bool>()) << regularizer;
    theta.grad().zero_();
  }
}

TEST(Topk, EstimatorsAreUnbiasedOrReportBias) {
  at::Tensor theta = at::randn({5}, seeded(8), at::kDouble);
  auto f = estimators::quadratic_loss(at::randn({5}, seeded(9), at::kDouble), at::randn({5}, seeded(10), at::kDouble));
  estimators::Options options;
  options.num_samples = 4;
  options.relax.tau = 0.5;
  auto reinforce = estimators::check_estimator("reinforce", family(2), theta, f, options, 20000, 11);
  EXPECT_FALSE(reinforce.bias_detected) << reinforce.verdict;
  auto relaxed = estimators::check_estimator("relaxed", family(2), theta, f, options, 20000, 11);
  EXPECT_TRUE(relaxed.bias_detected) << relaxed.verdict;
}

TEST(Topk, BadInput) {
  at::Tensor theta = at::zeros({2, 4}, at::kDouble);
  EXPECT_THROW(sample(theta, 5), c10::ValueError);
  EXPECT_THROW(map(theta, -1), c10::ValueError);
  EXPECT_THROW(relax(theta, 2, 0.0), c10::ValueError);
  EXPECT_THROW(relax(theta, 2, 1.0, "l1"), c10::ValueError);
  EXPECT_THROW(log_prob(theta, at::ones({2, 4}, at::kDouble), 2), c10::ValueError);
  EXPECT_THROW(sample(at::full({2, 4}, NAN, at::kDouble), 2), c10::ValueError);
}

TEST(Topk, SampleIsTheArgmaxOverAllSubsetsOfTheSameNoise) {
  // sample draws gumbel_noise of theta's shape from the generator: the same stream here.
  for (int64_t k : {2, 3}) {
    at::Tensor theta = at::randn({300, 6}, seeded(uint64_t(20 + k)), at::kDouble);
    at::Tensor perturbed = theta + gumbel_noise(theta.sizes(), theta.options(), seeded(uint64_t(30 + k)));
    at::Tensor all = enumerate(6, k);
    at::Tensor best = all.index_select(0, at::matmul(perturbed, all.t()).argmax(-1));
    EXPECT_TRUE(at::equal(sample(theta, k, seeded(uint64_t(30 + k))), best)) << "k=" << k;
  }
}

TEST(Topk, StraightThroughIsTheSampleForwardAndTheMarginalsGradient) {
  const int64_t k = 2;
  at::Tensor theta = at::randn({4, 6}, seeded(40), at::kDouble).requires_grad_(true);
  at::Tensor target = at::randn({4, 6}, seeded(41), at::kDouble);
  at::Tensor forward;
  auto f = [&](const at::Tensor& x) {
    forward = x.detach();
    return (x - target).pow(2).sum(-1);
  };
  estimators::straight_through(family(k), theta, f, seeded(42)).surrogate.backward();
  at::Tensor hard = sample(theta.detach(), k, seeded(42));
  ASSERT_EQ(forward.sizes(), at::IntArrayRef({1, 4, 6}));
  EXPECT_TRUE(at::equal(forward[0], hard));
  // d f / d x at the sample, carried back through the marginals.
  at::Tensor expected = torch::autograd::grad({(marginals(theta, k) * 2 * (hard - target)).sum()}, {theta})[0];
  EXPECT_TRUE(at::allclose(theta.grad(), expected, 0, 1e-12));
}

TEST(Topk, RelaxUnrollGradcheckAndStaysFinite) {
  at::Tensor theta = at::randn({2, 6}, seeded(12), at::kDouble);
  for (const char* regularizer : {"categorical_entropy", "binary_entropy"}) {
    auto fn = [&](const at::Tensor& t) { return relax(t, 3, 0.7, regularizer, false, seeded(13), "unroll"); };
    EXPECT_LT(testing::gradcheck_error(fn, theta), 1e-6) << regularizer;
    at::Tensor huge = (at::randn({8, 12}, seeded(14), at::kDouble) * 1e4).requires_grad_(true);
    at::Tensor y = relax(huge, 4, 1e-3, regularizer, false, seeded(15), "unroll");
    (y * at::arange(12, at::kDouble)).sum().backward();
    EXPECT_TRUE(at::isfinite(y).all().item<bool>()) << regularizer;
    EXPECT_TRUE(at::isfinite(huge.grad()).all().item<bool>()) << regularizer;
    EXPECT_TRUE(at::allclose(y, relax(huge, 4, 1e-3, regularizer, false, seeded(15)), 0, 1e-12)) << regularizer;
  }
}

}  // namespace
}  // namespace structgrad::topk
