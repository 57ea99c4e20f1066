#include "structgrad/structures/spanning_tree.h"

#include <gtest/gtest.h>

#include "structgrad/estimators/estimators.h"
#include "structgrad/structures/graph.h"
#include "structgrad/testing/testing.h"

namespace structgrad::spanning_tree {
namespace {

using testing::seeded;

at::Tensor symmetric(int64_t batch, int64_t n, uint64_t seed) {
  at::Tensor t = at::randn({batch, n, n}, seeded(seed), at::kDouble);
  return (t + t.transpose(-1, -2)) / 2;
}

// The best tree by enumeration (each edge counted once).
at::Tensor brute_force_map(const at::Tensor& theta) {
  at::Tensor all = enumerate(theta.size(-1));
  at::Tensor scores = (all.unsqueeze(1) * theta.unsqueeze(0)).sum({-1, -2}) / 2;
  return all.index_select(0, scores.argmax(0));
}

TEST(SpanningTree, MapAndSampleAreTheArgmaxOverAllTrees) {
  at::Tensor theta = symmetric(40, 5, 1);
  EXPECT_TRUE(at::equal(map(theta), brute_force_map(theta)));
  // sample is the MAP of the same noise: one Gumbel per undirected edge.
  at::Tensor perturbed = theta + graph::edge_noise(theta, true, seeded(2));
  EXPECT_TRUE(at::equal(sample(theta, seeded(2)), brute_force_map(perturbed)));
}

TEST(SpanningTree, RelaxIsDifferentiableAndHardIsTheSample) {
  at::Tensor theta = symmetric(2, 4, 3);
  auto fn = [&](const at::Tensor& t) { return relax((t + t.transpose(-1, -2)) / 2, 0.8, false, seeded(4)); };
  EXPECT_LT(testing::gradcheck_error(fn, theta), 1e-6);
  at::Tensor soft = relax(theta, 0.8, false, seeded(4));
  EXPECT_TRUE(at::allclose(soft, soft.transpose(-1, -2)));
  EXPECT_TRUE(at::allclose(soft.sum({-1, -2}), at::full({2}, 6.0, at::kDouble)));
  EXPECT_TRUE(at::equal(relax(theta, 0.8, true, seeded(4)).detach(), sample(theta, seeded(4))));
}

TEST(SpanningTree, LowTemperatureAndHugeLogitsStayFinite) {
  at::Tensor theta = (symmetric(4, 10, 5) * 1e3).requires_grad_(true);
  at::Tensor y = relax(theta, 1e-3, false, seeded(6));
  (y * symmetric(4, 10, 7)).sum().backward();
  EXPECT_TRUE(at::isfinite(y).all().item<bool>());
  EXPECT_TRUE(at::isfinite(theta.grad()).all().item<bool>());
}

TEST(SpanningTree, EstimatorsRunOnTrees) {
  at::Tensor theta = symmetric(3, 5, 8).requires_grad_(true);
  at::Tensor weights = symmetric(1, 5, 9)[0];
  auto f = [&](const at::Tensor& x) { return (x * weights).sum({-1, -2}); };
  estimators::Options options;
  options.relax.tau = 0.5;
  for (const char* name : {"relaxed", "straight_through"}) {
    auto estimate = estimators::estimate(name, family(), theta, f, options, seeded(10));
    estimate.surrogate.backward();
    EXPECT_EQ(estimate.loss.sizes(), at::IntArrayRef({3}));
    EXPECT_TRUE(at::isfinite(theta.grad()).all().item<bool>()) << name;
    theta.grad().zero_();
  }
}

TEST(SpanningTree, BadInput) {
  at::Tensor asymmetric = at::randn({2, 4, 4}, seeded(11), at::kDouble);
  EXPECT_THROW(sample(asymmetric), c10::ValueError);
  EXPECT_THROW(map(at::zeros({2, 3, 4}, at::kDouble)), c10::ValueError);
  EXPECT_THROW(relax(symmetric(1, 4, 12), 0.0), c10::ValueError);
  at::Tensor split = at::full({1, 4, 4}, -INFINITY, at::kDouble);
  split.index_put_({0, 0, 1}, 0.0);
  split.index_put_({0, 1, 0}, 0.0);
  split.index_put_({0, 2, 3}, 0.0);
  split.index_put_({0, 3, 2}, 0.0);
  EXPECT_THROW(map(split), c10::ValueError);
  EXPECT_THROW(log_partition(split), c10::ValueError);
  // NaN on one edge (both entries) of the second instance.
  at::Tensor nan = symmetric(2, 4, 13);
  nan.index_put_({1, 0, 2}, NAN);
  nan.index_put_({1, 2, 0}, NAN);
  EXPECT_THROW(map(nan), c10::ValueError);
  EXPECT_THROW(sample(nan, seeded(14)), c10::ValueError);
  EXPECT_THROW(relax(nan, 0.5, false, seeded(14)), c10::ValueError);
  EXPECT_THROW(relax(nan, 0.5, true, seeded(14)), c10::ValueError);
  EXPECT_THROW(log_partition(nan), c10::ValueError);
  EXPECT_THROW(marginals(nan), c10::ValueError);
}

TEST(SpanningTree, SymmetryToleranceIsRelativeAtEveryMagnitude) {
  for (double magnitude : {1e-12, 1.0, 1e6}) {
    at::Tensor base = symmetric(2, 4, 15) * magnitude;
    auto with_gap = [&](double gap) {
      at::Tensor theta = base.clone();
      theta.index_put_({1, 1, 3}, base.index({1, 3, 1}) * (1 + gap));
      return theta;
    };
    EXPECT_NO_THROW(log_partition(with_gap(1e-10))) << "magnitude " << magnitude;
    EXPECT_NO_THROW(map(with_gap(1e-10))) << "magnitude " << magnitude;
    try {
      log_partition(with_gap(1e-8));
      ADD_FAILURE() << "a relative gap of 1e-8 passed at magnitude " << magnitude;
    } catch (const c10::ValueError& e) {
      // The message names the first offending entry and its gap.
      const std::string message = e.what_without_backtrace();
      EXPECT_NE(message.find("in instance 1 theta[1, 3] = "), std::string::npos) << message;
      EXPECT_NE(message.find("relative gap 1e-08"), std::string::npos) << message;
    }
  }
  // Exact equality always passes (zeros included, and an absent edge in both directions); a
  // finite weight against -inf never does.
  EXPECT_NO_THROW(log_partition(at::zeros({1, 4, 4}, at::kDouble)));
  at::Tensor absent = symmetric(1, 4, 16);
  absent.index_put_({0, 0, 1}, -INFINITY);
  EXPECT_THROW(log_partition(absent), c10::ValueError);
  absent.index_put_({0, 1, 0}, -INFINITY);
  EXPECT_NO_THROW(log_partition(absent));
}

}  // namespace
}  // namespace structgrad::spanning_tree
