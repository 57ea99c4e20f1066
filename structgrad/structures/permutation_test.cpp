#include "structgrad/structures/permutation.h"

#include <gtest/gtest.h>

#include "structgrad/estimators/estimators.h"
#include "structgrad/ops/sinkhorn.h"
#include "structgrad/structures/registry.h"
#include "structgrad/testing/testing.h"

namespace structgrad::permutation {
namespace {

using testing::seeded;

// <theta, x> for every enumerated x: (*batch, n!).
at::Tensor scores_of_all(const at::Tensor& theta, const at::Tensor& all) {
  return at::matmul(theta.flatten(-2), all.flatten(-2).t());
}

// Which enumerated permutation each structure is: (*batch).
at::Tensor index_in(const at::Tensor& x, const at::Tensor& all) { return scores_of_all(x, all).argmax(-1); }

TEST(Permutation, EnumerateIsEveryPermutationMatrix) {
  at::Tensor all = enumerate(4);
  ASSERT_EQ(all.sizes(), at::IntArrayRef({24, 4, 4}));
  EXPECT_TRUE(at::equal(all.sum(-1), at::ones({24, 4}, at::kDouble)));
  EXPECT_TRUE(at::equal(all.sum(-2), at::ones({24, 4}, at::kDouble)));
  EXPECT_TRUE(at::equal(index_in(all, all), at::arange(24)));
}

TEST(Permutation, MapIsABestPermutationByEnumeration) {
  for (int64_t n = 1; n <= 6; ++n) {
    at::Tensor all = enumerate(n);
    // Perturbed instances with a batch of two dimensions.
    at::Tensor theta = at::randn({3, 10, n, n}, seeded(n), at::kDouble) +
                       at::empty({3, 10, n, n}, at::kDouble).uniform_(0, 1, seeded(100 + n)).log().neg().log().neg();
    at::Tensor x = map(theta);
    EXPECT_TRUE(at::equal(x.sum(-1), at::ones({3, 10, n}, at::kDouble))) << n;
    at::Tensor best = std::get<0>(scores_of_all(theta, all).max(-1));
    EXPECT_LT((at::mul(theta, x).sum({-2, -1}) - best).abs().max().item<double>(), 1e-12) << n;
  }
}

TEST(Permutation, MapAvoidsForbiddenPairsAndRejectsInfeasibleOnes) {
  at::Tensor theta = at::randn({5, 5}, seeded(20), at::kDouble);
  theta.diagonal().fill_(-INFINITY);
  at::Tensor x = map(theta);
  EXPECT_EQ(x.diagonal().sum().item<double>(), 0.0);
  at::Tensor blocked = at::randn({2, 4, 4}, seeded(21), at::kDouble);
  blocked[1].select(1, 2).fill_(-INFINITY);  // column 2 of instance 1 is unreachable
  EXPECT_THROW(map(blocked), c10::ValueError);
}

TEST(Permutation, SampleIsTheMapOfTheSameNoise) {
  const int64_t n = 4;
  at::Tensor all = enumerate(n);
  at::Tensor theta = at::randn({500, n, n}, seeded(30), at::kDouble);
  at::Tensor x = sample(theta, seeded(31));
  at::Tensor noise = gumbel_noise(theta.sizes(), theta.options(), seeded(31));
  at::Tensor brute_force = all.index_select(0, scores_of_all(theta + noise, all).argmax(-1));
  EXPECT_TRUE(at::equal(x, brute_force));
}

TEST(Permutation, SampleFrequenciesMatchBruteForcePerturbAndMap) {
  // Independent draws of sample and of the enumerated argmax under fresh noise: a two-sample
  // chi-square test of homogeneity over the 3! permutations.
  const int64_t n = 3, draws = 30000;
  at::Tensor all = enumerate(n);
  at::Tensor theta = at::tensor({0.5, -0.3, 0.0, 1.0, 0.2, -1.0, -0.4, 0.8, 0.3}, at::kDouble).view({n, n});
  at::Tensor many = theta.expand({draws, n, n});
  at::Tensor counts = at::bincount(index_in(sample(many, seeded(40)), all), {}, all.size(0)).to(at::kDouble);
  at::Tensor noise = gumbel_noise(many.sizes(), many.options(), seeded(41));
  at::Tensor reference = at::bincount(scores_of_all(many + noise, all).argmax(-1), {}, all.size(0)).to(at::kDouble);
  const double statistic = ((counts - reference).pow(2) / (counts + reference)).sum().item<double>();
  EXPECT_LT(statistic, testing::chi_square_critical(all.size(0) - 1, 1e-3));
  // The test can fail: a slightly different theta is detected.
  at::Tensor shifted = (theta + at::eye(n, at::kDouble) * 0.15).expand({draws, n, n});
  at::Tensor other = at::bincount(index_in(sample(shifted, seeded(42)), all), {}, all.size(0)).to(at::kDouble);
  EXPECT_GT(((other - reference).pow(2) / (other + reference)).sum().item<double>(),
            testing::chi_square_critical(all.size(0) - 1, 1e-3));
}

TEST(Permutation, RelaxGradcheck) {
  at::Tensor theta = at::randn({2, 4, 4}, seeded(50), at::kDouble);
  auto implicit = [](const at::Tensor& t) { return relax(t, 0.8, 200, 0, "implicit", false, seeded(51)); };
  EXPECT_LT(testing::gradcheck_error(implicit, theta), 1e-7);
  auto tolerance = [](const at::Tensor& t) { return relax(t, 0.8, 10000, 1e-10, "implicit", false, seeded(51)); };
  // With a tolerance the forward stops after a number of iterations that moves with theta, so
  // its finite differences jump by about tolerance / step = 1e-4: gradcheck is loose here.
  EXPECT_LT(testing::gradcheck_error(tolerance, theta), 1e-4);
  // The backward itself is exact: it equals the one at a fixed 200 iterations (smooth forward,
  // checked tightly above) to the forward's tolerance.
  at::Tensor g = at::randn({2, 4, 4}, seeded(52), at::kDouble);
  auto vjp = [&](auto relaxation) {
    at::Tensor leaf = theta.clone().requires_grad_(true);
    (relaxation(leaf) * g).sum().backward();
    return leaf.grad();
  };
  EXPECT_LT((vjp(tolerance) - vjp(implicit)).abs().max().item<double>(), 1e-8);
  auto unroll = [](const at::Tensor& t) { return relax(t, 0.8, 20, 0, "unroll", false, seeded(51)); };
  EXPECT_LT(testing::gradcheck_error(unroll, theta), 1e-7);
}

TEST(Permutation, RelaxIsSinkhornOfTheSampleNoiseAndHardIsTheSample) {
  at::Tensor theta = at::randn({3, 5, 5}, seeded(60), at::kDouble);
  at::Tensor noise = gumbel_noise(theta.sizes(), theta.options(), seeded(61));
  EXPECT_TRUE(at::allclose(relax(theta, 0.5, 20, 0, "implicit", false, seeded(61)),
                           ops::sinkhorn((theta + noise) / 0.5, 20), 0, 1e-14));
  at::Tensor leaf = theta.clone().requires_grad_(true);
  at::Tensor g = at::randn({3, 5, 5}, seeded(62), at::kDouble);
  at::Tensor hard = relax(leaf, 0.5, 20, 0, "implicit", true, seeded(61));
  EXPECT_TRUE(at::equal(hard.detach(), sample(theta, seeded(61))));
  (hard * g).sum().backward();
  at::Tensor straight_through = leaf.grad().clone();
  leaf.grad().zero_();
  (relax(leaf, 0.5, 20, 0, "implicit", false, seeded(61)) * g).sum().backward();
  EXPECT_TRUE(at::allclose(straight_through, leaf.grad()));
}

TEST(Permutation, EstimatorsThatNeedNoLogProbRun) {
  at::Tensor theta = at::randn({2, 4, 4}, seeded(70), at::kDouble).requires_grad_(true);
  at::Tensor target = enumerate(4)[5];
  auto f = [&](const at::Tensor& x) { return (x - target).pow(2).sum({-2, -1}); };
  const Family perm = structgrad::family("permutation");
  EXPECT_EQ(perm.event_dim, 2);
  for (const char* name : {"straight_through", "relaxed"}) {
    estimators::Options options;
    options.relax.tau = 0.5;
    options.relax.hard = std::string(name) == "relaxed";
    auto e = estimators::estimate(name, perm, theta, f, options, seeded(71));
    e.surrogate.backward();
    ASSERT_EQ(e.loss.sizes(), at::IntArrayRef({2})) << name;
    EXPECT_TRUE(at::isfinite(theta.grad()).all().item<bool>()) << name;
    EXPECT_GT(theta.grad().abs().sum().item<double>(), 0) << name;
    theta.grad().zero_();
  }
  EXPECT_THROW(estimators::exact(perm, theta, f), c10::ValueError);
  EXPECT_THROW(estimators::reinforce(perm, theta, f, 4), c10::ValueError);
  RelaxOptions euclidean{0.5, "euclidean", false, ""};
  EXPECT_THROW(perm.relax(theta, euclidean, c10::nullopt), c10::ValueError);
}

TEST(Permutation, BadInput) {
  at::Tensor theta = at::zeros({2, 3, 3}, at::kDouble);
  EXPECT_THROW(map(at::zeros({2, 3, 4}, at::kDouble)), c10::ValueError);
  EXPECT_THROW(sample(at::zeros({3}, at::kDouble)), c10::ValueError);
  EXPECT_THROW(relax(at::zeros({3, 4}, at::kDouble), 1.0), c10::ValueError);
  EXPECT_THROW(map(at::full({3, 3}, NAN, at::kDouble)), c10::ValueError);
  EXPECT_THROW(map(at::full({3, 3}, INFINITY, at::kDouble)), c10::ValueError);
  EXPECT_THROW(relax(at::full({3, 3}, NAN, at::kDouble), 1.0), c10::ValueError);
  EXPECT_THROW(relax(theta, 0.0), c10::ValueError);
  EXPECT_THROW(relax(theta, -1.0), c10::ValueError);
  EXPECT_THROW(relax(theta, 1.0, 20, 0, "finite_differences"), c10::ValueError);
  EXPECT_THROW(enumerate(9), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::permutation
