#include "structgrad/ops/sparsemax.h"

#include <gtest/gtest.h>

#include "structgrad/testing/testing.h"

namespace structgrad::ops {
namespace {

// The projection by bisection on its threshold: sum_i max(z_i - t, 0) = 1.
at::Tensor sparsemax_by_bisection(const at::Tensor& z) {
  double lo = z.min().item<double>() - 1, hi = z.max().item<double>();
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    ((z - mid).clamp_min(0).sum().item<double>() > 1 ? lo : hi) = mid;
  }
  return (z - (lo + hi) / 2).clamp_min(0);
}

TEST(Sparsemax, MatchesBisectionReference) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  for (double scale : {0.1, 1.0, 10.0, 1e4}) {
    at::Tensor z = at::randn({20, 7}, gen, at::kDouble) * scale;
    at::Tensor p = sparsemax(z);
    for (int64_t r = 0; r < z.size(0); ++r)
      EXPECT_TRUE(at::allclose(p[r], sparsemax_by_bisection(z[r]), 1e-9, 1e-9)) << "scale " << scale;
    EXPECT_TRUE(at::allclose(p.sum(-1), at::ones({20}, at::kDouble)));
    EXPECT_TRUE((p >= 0).all().item<bool>());
  }
}

TEST(Sparsemax, BackwardMatchesFiniteDifferences) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  at::Tensor z = at::randn({3, 6}, gen, at::kDouble);
  EXPECT_LT(testing::gradcheck_error([](const at::Tensor& x) { return sparsemax(x); }, z), 1e-6);
}

// -inf entries (masked categories) stay at 0 and the others are projected among themselves.
TEST(Sparsemax, MinusInfinityEntriesStayOutOfTheSupport) {
  at::Tensor z = at::randn({6, 7}, at::make_generator<at::CPUGeneratorImpl>(3), at::kDouble);
  at::Tensor masked = z.clone();
  masked.index_put_({at::indexing::Slice(), at::indexing::Slice(0, 3)}, -INFINITY);
  at::Tensor p = sparsemax(masked);
  EXPECT_TRUE((p.narrow(-1, 0, 3) == 0).all().item<bool>());
  EXPECT_TRUE(at::allclose(p.narrow(-1, 3, 4), sparsemax(z.narrow(-1, 3, 4)), 0, 1e-15));
  EXPECT_TRUE(at::allclose(p.sum(-1), at::ones({6}, at::kDouble)));
}

TEST(Sparsemax, RejectsEmptyNanInfinityAndRowsWithoutAFiniteEntry) {
  EXPECT_THROW(sparsemax(at::empty({0}, at::kDouble)), c10::ValueError);
  EXPECT_THROW(sparsemax(at::tensor({0.0, NAN}, at::kDouble)), c10::ValueError);
  EXPECT_THROW(sparsemax(at::tensor({0.0, INFINITY}, at::kDouble)), c10::ValueError);
  EXPECT_THROW(sparsemax(at::tensor({0.0, 1.0, -INFINITY, -INFINITY}, at::kDouble).view({2, 2})), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::ops
