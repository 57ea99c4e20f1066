#include "structgrad/structures/arborescence.h"

#include <gtest/gtest.h>

#include "structgrad/estimators/estimators.h"
#include "structgrad/structures/graph.h"
#include "structgrad/testing/testing.h"

namespace structgrad::arborescence {
namespace {

using testing::seeded;

at::Tensor brute_force_map(const at::Tensor& theta, int64_t root) {
  at::Tensor all = enumerate(theta.size(-1), root);
  at::Tensor scores = (all.unsqueeze(1) * theta.unsqueeze(0)).sum({-1, -2});
  return all.index_select(0, scores.argmax(0));
}

TEST(ArborescenceFamily, MapAndSampleAreTheArgmaxOverAllArborescences) {
  for (int64_t root : {0, 2}) {
    at::Tensor theta = at::randn({40, 5, 5}, seeded(1 + root), at::kDouble);
    EXPECT_TRUE(at::equal(map(theta, root), brute_force_map(theta, root))) << "root " << root;
    at::Tensor perturbed = theta + graph::edge_noise(theta, false, seeded(3));
    EXPECT_TRUE(at::equal(sample(theta, root, seeded(3)), brute_force_map(perturbed, root))) << "root " << root;
  }
}

TEST(ArborescenceFamily, MarginalsMatchEnumeration) {
  at::Tensor theta = at::randn({3, 5, 5}, seeded(4), at::kDouble) * 20;
  at::Tensor all = enumerate(5, 1);
  at::Tensor scores = (all.unsqueeze(1) * theta.unsqueeze(0)).sum({-1, -2});
  EXPECT_TRUE(at::allclose(log_partition(theta, 1), at::logsumexp(scores, 0), 1e-10, 1e-10));
  at::Tensor expected = (at::softmax(scores, 0).unsqueeze(-1).unsqueeze(-1) * all.unsqueeze(1)).sum(0);
  EXPECT_TRUE(at::allclose(marginals(theta, 1), expected, 0, 1e-10));
}

TEST(ArborescenceFamily, RelaxIsDifferentiableAndHardIsTheSample) {
  at::Tensor theta = at::randn({2, 4, 4}, seeded(5), at::kDouble);
  auto fn = [&](const at::Tensor& t) { return relax(t, 0.7, 2, false, seeded(6)); };
  EXPECT_LT(testing::gradcheck_error(fn, theta), 1e-6);
  EXPECT_TRUE(at::equal(relax(theta, 0.7, 2, true, seeded(6)).detach(), sample(theta, 2, seeded(6))));
  at::Tensor cold = (theta * 1e3).requires_grad_(true);
  at::Tensor y = relax(cold, 1e-3, 0, false, seeded(7));
  (y * theta).sum().backward();
  EXPECT_TRUE(at::isfinite(y).all().item<bool>() && at::isfinite(cold.grad()).all().item<bool>());
}

TEST(ArborescenceFamily, StraightThroughIsTheSampleForwardAndTheMarginalsGradient) {
  const int64_t root = 2;
  at::Tensor theta = at::randn({3, 5, 5}, seeded(10), at::kDouble).requires_grad_(true);
  at::Tensor target = at::randn({3, 5, 5}, seeded(11), at::kDouble);
  at::Tensor forward;
  auto f = [&](const at::Tensor& x) {
    forward = x.detach();
    return (x - target).pow(2).sum({-1, -2});
  };
  estimators::straight_through(family(root), theta, f, seeded(12)).surrogate.backward();
  at::Tensor hard = sample(theta.detach(), root, seeded(12));
  ASSERT_EQ(forward.sizes(), at::IntArrayRef({1, 3, 5, 5}));
  EXPECT_TRUE(at::equal(forward[0], hard));
  // d f / d x at the sample, carried back through the marginals.
  at::Tensor expected = torch::autograd::grad({(marginals(theta, root) * 2 * (hard - target)).sum()}, {theta})[0];
  EXPECT_TRUE(at::allclose(theta.grad(), expected, 0, 1e-12));
}

TEST(ArborescenceFamily, BadInput) {
  at::Tensor theta = at::zeros({2, 4, 4}, at::kDouble);
  EXPECT_THROW(map(theta, 4), c10::ValueError);
  EXPECT_THROW(relax(theta, -1.0), c10::ValueError);
  at::Tensor unreachable = theta.clone();
  unreachable.index_put_({at::indexing::Slice(), at::indexing::Slice(), 3}, -INFINITY);
  EXPECT_THROW(sample(unreachable, 0), c10::ValueError);
  EXPECT_THROW(marginals(unreachable, 0), c10::ValueError);
  // NaN on one edge of the second instance, for every root.
  at::Tensor nan = at::randn({2, 4, 4}, seeded(8), at::kDouble);
  nan.index_put_({1, 2, 1}, NAN);
  for (int64_t root : {0, 3}) {
    EXPECT_THROW(map(nan, root), c10::ValueError) << "root " << root;
    EXPECT_THROW(sample(nan, root, seeded(9)), c10::ValueError) << "root " << root;
    EXPECT_THROW(relax(nan, 0.5, root, false, seeded(9)), c10::ValueError) << "root " << root;
    EXPECT_THROW(relax(nan, 0.5, root, true, seeded(9)), c10::ValueError) << "root " << root;
    EXPECT_THROW(log_partition(nan, root), c10::ValueError) << "root " << root;
    EXPECT_THROW(marginals(nan, root), c10::ValueError) << "root " << root;
  }
}

}  // namespace
}  // namespace structgrad::arborescence
