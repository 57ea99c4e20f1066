#include "structgrad/distributions/concrete.h"

#include <gtest/gtest.h>

#include "structgrad/testing/testing.h"

namespace structgrad::distributions {
namespace {

using testing::seeded;

// With two categories the Concrete density of (x, 1 - x) is a density on (0, 1): it must
// integrate to one (midpoint rule on a fine grid, in the interior where it is smooth).
TEST(Concrete, TwoCategoryDensityIntegratesToOne) {
  for (double temperature : {0.7, 1.0, 2.0}) {
    Concrete q(at::tensor({0.4, -0.2}, at::kDouble), temperature);
    const int64_t cells = 200000;
    at::Tensor x = (at::arange(cells, at::kDouble) + 0.5) / double(cells);
    at::Tensor points = at::stack({x, 1 - x}, -1);
    const double integral = q.log_prob(points).exp().sum().item<double>() / double(cells);
    EXPECT_NEAR(integral, 1.0, 1e-3) << "temperature " << temperature;
  }
}

TEST(ExpConcrete, LogProbIsConcreteLogProbPlusLogJacobian) {
  at::Tensor logits = at::randn({3, 4}, seeded(1), at::kDouble);
  ExpConcrete log_space(logits, 0.6);
  Concrete simplex(logits, 0.6);
  at::Tensor y = log_space.rsample({5}, seeded(2));
  EXPECT_TRUE(at::allclose(log_space.log_prob(y), simplex.log_prob(y.exp()) + y.sum(-1)));
}

TEST(ExpConcrete, SamplesLieOnTheLogSimplexAndAreReparameterized) {
  at::Tensor logits = at::randn({6, 5}, seeded(3), at::kDouble).requires_grad_(true);
  ExpConcrete q(logits, 0.5);
  at::Tensor y = q.rsample({2}, seeded(4));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({2, 6, 5}));
  EXPECT_TRUE(at::allclose(at::logsumexp(y, -1), at::zeros({2, 6}, at::kDouble)));
  y.select(-1, 0).sum().backward();
  EXPECT_TRUE(logits.grad().abs().sum().item<double>() > 0);
  EXPECT_LT(testing::gradcheck_error([&](const at::Tensor& l) { return ExpConcrete(l, 0.5).rsample({}, seeded(5)); },
                                     logits.detach()),
            1e-6);
}

// At tau = 0.01 the Concrete sample is one-hot in floating point and its density underflows;
// the log-space density does not.
TEST(ExpConcrete, LowTemperatureAndLargeLogitsStayFinite) {
  at::Tensor logits = (at::randn({8, 10}, seeded(6), at::kDouble) * 1e3).requires_grad_(true);
  ExpConcrete q(logits, 0.01);
  at::Tensor y = q.rsample({}, seeded(7));
  at::Tensor log_p = q.log_prob(y);
  log_p.sum().backward();
  EXPECT_TRUE(at::isfinite(y).all().item<bool>());
  EXPECT_TRUE(at::isfinite(log_p).all().item<bool>());
  EXPECT_TRUE(at::isfinite(logits.grad()).all().item<bool>());
  // The simplex form of the same draws underflows to vertices: -inf there, never NaN.
  Concrete simplex(logits.detach(), 0.01);
  at::Tensor x = simplex.rsample({}, seeded(7));
  ASSERT_TRUE((x == 0).any().item<bool>());
  at::Tensor log_x = simplex.log_prob(x);
  EXPECT_FALSE(at::isnan(log_x).any().item<bool>());
  EXPECT_TRUE(at::equal(at::isinf(log_x), (x == 0).any(-1)));
}

TEST(ExpConcrete, BadInput) {
  at::Tensor logits = at::zeros({3}, at::kDouble);
  EXPECT_THROW(ExpConcrete(logits, 0.0), c10::ValueError);
  EXPECT_THROW(ExpConcrete(at::zeros({1}, at::kDouble), 1.0), c10::ValueError);
  EXPECT_THROW(ExpConcrete(at::full({3}, NAN, at::kDouble), 1.0), c10::ValueError);
  EXPECT_THROW(ExpConcrete(logits, 1.0).log_prob(at::zeros({4}, at::kDouble)), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::distributions
