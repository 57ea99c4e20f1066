#include "structgrad/ops/sinkhorn.h"

#include <gtest/gtest.h>

#include "structgrad/testing/testing.h"

namespace structgrad::ops {
namespace {

using testing::seeded;

double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

TEST(Sinkhorn, ConvergesToTheEntropicAssignment) {
  at::Tensor z = at::randn({3, 5, 5}, seeded(1), at::kDouble) * 2;
  at::Tensor p = sinkhorn(z, 500);
  EXPECT_LT(max_abs(p.sum(-1) - 1), 1e-12);
  EXPECT_LT(max_abs(p.sum(-2) - 1), 1e-12);
  // The optimality condition: log P - z = f_i + g_j, so its double differences vanish.
  at::Tensor d = p.log() - z;
  at::Tensor doubly_centered = d - d.mean(-1, true) - d.mean(-2, true) + d.mean({-2, -1}, true);
  EXPECT_LT(max_abs(doubly_centered), 1e-10);
}

TEST(Sinkhorn, ImplicitAndUnrolledForwardsAgree) {
  at::Tensor z = at::randn({4, 6, 6}, seeded(2), at::kDouble) * 3;
  for (double tolerance : {0.0, 1e-3, 1e-8}) {
    at::Tensor implicit = sinkhorn(z, 30, tolerance, "implicit");
    at::Tensor unrolled = sinkhorn(z, 30, tolerance, "unroll");
    EXPECT_LT(max_abs(implicit - unrolled), 1e-12) << "tolerance " << tolerance;
  }
  // A loose tolerance stops early: rows are off by less than it, columns are exact.
  at::Tensor early = sinkhorn(z, 1000, 1e-3);
  EXPECT_LT(max_abs(early.sum(-1) - 1), 1e-3);
  EXPECT_GT(max_abs(early.sum(-1) - 1), 1e-9);
  EXPECT_LT(max_abs(early.sum(-2) - 1), 1e-12);
}

TEST(Sinkhorn, UnrolledGradcheckAtTwentyIterations) {
  at::Tensor z = at::randn({2, 4, 4}, seeded(3), at::kDouble);
  auto fn = [](const at::Tensor& t) { return sinkhorn(t, 20, 0, "unroll"); };
  EXPECT_LT(testing::gradcheck_error(fn, z), 1e-7);
}

TEST(Sinkhorn, ImplicitGradcheckOnceConverged) {
  at::Tensor z = at::randn({2, 4, 4}, seeded(4), at::kDouble);
  auto by_iterations = [](const at::Tensor& t) { return sinkhorn(t, 200); };
  EXPECT_LT(testing::gradcheck_error(by_iterations, z), 1e-7);
  // Where the stopping iteration differs between z +- step the forward jumps by up to the
  // tolerance, which the central difference divides by 2 * step: 1e-10 / 2e-6.
  auto by_tolerance = [](const at::Tensor& t) { return sinkhorn(t, 10000, 1e-10); };
  EXPECT_LT(testing::gradcheck_error(by_tolerance, z), 1e-4);
}

TEST(Sinkhorn, ImplicitGradientIsTheLimitOfTheUnrolledOne) {
  at::Tensor z = at::randn({3, 7, 7}, seeded(5), at::kDouble) * 2;
  at::Tensor g = at::randn({3, 7, 7}, seeded(6), at::kDouble);
  auto gradient = [&](int64_t iterations, const char* backward) {
    at::Tensor x = z.clone().requires_grad_(true);
    (sinkhorn(x, iterations, 0, backward) * g).sum().backward();
    return x.grad();
  };
  at::Tensor implicit = gradient(300, "implicit");
  EXPECT_LT(max_abs(implicit - gradient(300, "unroll")), 1e-9);
  // At 3 iterations the unrolled gradient is that of a different function.
  EXPECT_GT(max_abs(implicit - gradient(3, "unroll")), 1e-3);
}

TEST(Sinkhorn, LowTemperatureAndHugeLogitsStayFinite) {
  for (auto dtype : {at::kDouble, at::kFloat}) {
    at::Tensor z = (at::randn({4, 8, 8}, seeded(7), at::kDouble) * 1e4 / 1e-3).to(dtype).requires_grad_(true);
    for (const char* backward : {"implicit", "unroll"}) {
      at::Tensor p = sinkhorn(z, 20, 0, backward);
      (p * at::arange(64, p.options()).view({8, 8})).sum().backward();
      EXPECT_TRUE(at::isfinite(p).all().item<bool>()) << backward;
      EXPECT_TRUE(at::isfinite(z.grad()).all().item<bool>()) << backward;
      z.grad().zero_();
    }
  }
}

TEST(Sinkhorn, FloatMatchesDouble) {
  at::Tensor z = at::randn({2, 9, 9}, seeded(8), at::kDouble);
  EXPECT_LT(max_abs(sinkhorn(z.to(at::kFloat)).to(at::kDouble) - sinkhorn(z)), 1e-5);
}

TEST(Sinkhorn, BadInput) {
  at::Tensor z = at::zeros({2, 3, 3}, at::kDouble);
  EXPECT_THROW(sinkhorn(at::zeros({2, 3, 4}, at::kDouble)), c10::ValueError);
  EXPECT_THROW(sinkhorn(at::full({3, 3}, NAN, at::kDouble)), c10::ValueError);
  EXPECT_THROW(sinkhorn(at::full({3, 3}, INFINITY, at::kDouble)), c10::ValueError);
  EXPECT_THROW(sinkhorn(z, 0), c10::ValueError);
  EXPECT_THROW(sinkhorn(z, 20, -1.0), c10::ValueError);
  EXPECT_THROW(sinkhorn(z, 20, 0, "autograd"), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::ops
