#include "structgrad/ops/finite_difference.h"

#include <gtest/gtest.h>

#include "structgrad/testing/testing.h"

namespace structgrad::ops {
namespace {

using testing::seeded;

at::Tensor softmax_solver(const at::Tensor& z) { return at::softmax(z, -1); }

// The gradient of <g, fn(z)> with respect to z.
at::Tensor gradient(const std::function<at::Tensor(const at::Tensor&)>& fn, const at::Tensor& z, const at::Tensor& g) {
  at::Tensor x = z.clone().requires_grad_(true);
  (fn(x) * g).sum().backward();
  return x.grad();
}

double relative_error(const at::Tensor& a, const at::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

TEST(FiniteDifference, ForwardIsTheSolverAndBackwardMatchesTheAnalyticOne) {
  at::Tensor z = at::randn({5, 7}, seeded(1), at::kDouble) * 3;
  at::Tensor g = at::randn({5, 7}, seeded(2), at::kDouble) * 100;
  auto fd = [](const at::Tensor& x) { return finite_difference_argmax(x, 1, softmax_solver); };
  EXPECT_TRUE(at::equal(fd(z), softmax_solver(z)));
  EXPECT_LT(relative_error(gradient(fd, z, g), gradient(softmax_solver, z, g)), 1e-8);
}

TEST(FiniteDifference, StepIsPerInstanceSoScaledGradientsScaleTheResult) {
  at::Tensor z = at::randn({2, 3, 4}, seeded(3), at::kDouble);
  at::Tensor g = at::randn({2, 3, 4}, seeded(4), at::kDouble);
  // One instance's gradient a million times larger must not coarsen the other's difference.
  at::Tensor scales = at::tensor({1e-6, 1e3}, at::kDouble).view({2, 1, 1});
  auto per_matrix = [](const at::Tensor& x) { return finite_difference_argmax(x, 2, softmax_solver); };
  EXPECT_LT(relative_error(gradient(per_matrix, z, g * scales)[0], gradient(softmax_solver, z, g * scales)[0]), 1e-8);
  EXPECT_LT(relative_error(gradient(per_matrix, z, g * scales)[1], gradient(softmax_solver, z, g * scales)[1]), 1e-8);
}

TEST(FiniteDifference, ZeroGradientAndAbsentEntriesGiveZero) {
  at::Tensor z = at::randn({2, 5}, seeded(5), at::kDouble);
  z[0][1] = -INFINITY;
  at::Tensor g = at::randn({2, 5}, seeded(6), at::kDouble);
  g[1].zero_();
  auto fd = [](const at::Tensor& x) { return finite_difference_argmax(x, 1, softmax_solver); };
  at::Tensor grad = gradient(fd, z, g);
  EXPECT_TRUE(at::isfinite(grad).all().item<bool>());
  EXPECT_EQ(grad[0][1].item<double>(), 0);
  EXPECT_EQ(grad[1].abs().max().item<double>(), 0);
  EXPECT_LT(relative_error(grad, gradient(softmax_solver, z, g)), 1e-8);
}

TEST(FiniteDifference, Float32StaysAccurateToItsPrecision) {
  at::Tensor z = at::randn({4, 6}, seeded(7), at::kFloat);
  at::Tensor g = at::randn({4, 6}, seeded(8), at::kFloat);
  auto fd = [](const at::Tensor& x) { return finite_difference_argmax(x, 1, softmax_solver); };
  EXPECT_LT(relative_error(gradient(fd, z, g), gradient(softmax_solver, z, g)), 1e-3);
}

TEST(FiniteDifference, BadInput) {
  EXPECT_THROW(finite_difference_argmax(at::zeros({3}, at::kDouble), 2, softmax_solver), c10::ValueError);
  EXPECT_THROW(finite_difference_argmax(at::zeros({3}, at::kDouble), 0, softmax_solver), c10::ValueError);
  EXPECT_THROW(finite_difference_argmax(at::zeros({3}, at::kDouble), 1, RegularizedArgmax()), c10::ValueError);
  auto wrong_shape = [](const at::Tensor& z) { return z.sum(-1); };
  EXPECT_THROW(finite_difference_argmax(at::zeros({2, 3}, at::kDouble), 1, wrong_shape), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::ops
