#include "structgrad/ops/ksubset.h"

#include <gtest/gtest.h>

#include "structgrad/structures/topk.h"
#include "structgrad/testing/testing.h"

namespace structgrad::ops {
namespace {

using testing::seeded;

// log Z as plain differentiable torch ops (the unrolled DP, in linear space: fine for the
// moderate logits of the comparison), for comparison with the custom backward.
at::Tensor unrolled_log_partition(const at::Tensor& z, int64_t k) {
  const int64_t n = z.size(-1);
  std::vector<int64_t> sizes(z.sizes().begin(), z.sizes().end() - 1);
  sizes.push_back(k + 1);
  at::Tensor alpha = at::zeros(sizes, z.options());
  alpha.select(-1, 0).fill_(1);
  for (int64_t j = 0; j < n; ++j) {
    at::Tensor take = at::cat({at::zeros_like(alpha.narrow(-1, 0, 1)),
                               alpha.narrow(-1, 0, k) * z.select(-1, j).exp().unsqueeze(-1)}, -1);
    alpha = alpha + take;
  }
  return alpha.select(-1, k).log();
}

TEST(KSubset, LogPartitionAndMarginalsMatchEnumeration) {
  for (double scale : {1.0, 20.0, 50.0})
    for (int64_t k : {0, 1, 2, 3, 6}) {
      at::Tensor z = at::randn({5, 6}, seeded(uint64_t(k) + 10), at::kDouble) * scale;
      at::Tensor all = topk::enumerate(6, k);
      at::Tensor scores = at::matmul(z, all.t());
      at::Tensor log_z = at::logsumexp(scores, -1);
      EXPECT_TRUE(at::allclose(ksubset_log_partition(z, k), log_z, 1e-12, 1e-9)) << scale << " k=" << k;
      EXPECT_TRUE(at::allclose(ksubset_marginals(z, k), at::matmul(at::softmax(scores, -1), all), 0, 1e-10))
          << scale << " k=" << k;
    }
}

TEST(KSubset, MarginalsBackwardMatchesTheUnrolledDynamicProgram) {
  at::Tensor z = at::randn({3, 7}, seeded(1), at::kDouble);
  at::Tensor g = at::randn({3, 7}, seeded(2), at::kDouble);
  for (int64_t k : {1, 3, 5}) {
    at::Tensor ours = z.clone().requires_grad_(true), reference = z.clone().requires_grad_(true);
    (ksubset_marginals(ours, k) * g).sum().backward();
    auto first = torch::autograd::grad({unrolled_log_partition(reference, k).sum()}, {reference}, {}, true, true)[0];
    (first * g).sum().backward();
    EXPECT_TRUE(at::allclose(ours.grad(), reference.grad(), 1e-9, 1e-10)) << "k=" << k;
  }
}

// The marginals' backward is Cov(x) g under the Gibbs distribution. Scale 1 runs the DP in
// linear space, 20 and 50 mostly in log space (k (z_max - z_(k)) beyond the linear range).
TEST(KSubset, MarginalsBackwardIsTheEnumeratedCovarianceInBothSpaces) {
  for (double scale : {1.0, 20.0, 50.0})
    for (int64_t k : {1, 2, 3, 5}) {
      at::Tensor z = (at::randn({6, 6}, seeded(uint64_t(k) + 30), at::kDouble) * scale).requires_grad_(true);
      at::Tensor g = at::randn({6, 6}, seeded(uint64_t(k) + 40), at::kDouble);
      (ksubset_marginals(z, k) * g).sum().backward();
      at::Tensor all = topk::enumerate(6, k);
      at::Tensor p = at::softmax(at::matmul(z.detach(), all.t()), -1);  // (rows, subsets)
      at::Tensor mean = at::matmul(p, all);
      at::Tensor second = at::einsum("rs,si,sj->rij", {p, all, all});
      at::Tensor covariance = second - mean.unsqueeze(-1) * mean.unsqueeze(-2);
      at::Tensor expected = at::matmul(covariance, g.unsqueeze(-1)).squeeze(-1);
      EXPECT_TRUE(at::allclose(z.grad(), expected, 0, 1e-10)) << "scale " << scale << " k=" << k;
    }
}

// The linear-space DP runs while k (z_max - z_(k)) + log C(n, min(k, n/2)) < 600. Across that
// edge log Z, the marginals and their backward are continuous (and equal to enumeration).
TEST(KSubset, LinearAndLogSpaceAgreeAtTheEdge) {
  const double log_binomial = std::log(20.0);  // C(6, 3)
  const double edge = (600.0 - log_binomial) / 3;
  at::Tensor g = at::randn({1, 6}, seeded(50), at::kDouble);
  std::vector<at::Tensor> results;
  for (double top : {edge - 1e-9, edge + 1e-9}) {
    at::Tensor z = at::tensor({top, 0.0, 0.0, -5.0, -10.0, -30.0}, at::kDouble).view({1, 6}).requires_grad_(true);
    at::Tensor mu = ksubset_marginals(z, 3);
    (mu * g).sum().backward();
    at::Tensor all = topk::enumerate(6, 3);
    at::Tensor scores = at::matmul(z.detach(), all.t());
    EXPECT_NEAR(ksubset_log_partition(z.detach(), 3).item<double>(), at::logsumexp(scores, -1).item<double>(),
                1e-9);
    EXPECT_TRUE(at::allclose(mu, at::matmul(at::softmax(scores, -1), all), 0, 1e-12));
    results.push_back(at::cat({mu.detach(), z.grad()}, -1));
  }
  EXPECT_TRUE(at::allclose(results[0], results[1], 0, 1e-9)) << results[0] << results[1];
}

TEST(KSubset, GradcheckFloat64) {
  at::Tensor z = at::randn({2, 6}, seeded(3), at::kDouble);
  EXPECT_LT(testing::gradcheck_error([](const at::Tensor& x) { return ksubset_marginals(x, 2); }, z), 1e-6);
  EXPECT_LT(testing::gradcheck_error([](const at::Tensor& x) { return ksubset_log_partition(x, 4); }, z), 1e-6);
}

TEST(KSubset, HugeLogitsStayFinite) {
  at::Tensor z = (at::randn({4, 30}, seeded(4), at::kDouble) * 1e3).requires_grad_(true);
  at::Tensor mu = ksubset_marginals(z, 5);
  (mu * at::randn({4, 30}, seeded(5), at::kDouble)).sum().backward();
  EXPECT_TRUE(at::isfinite(mu).all().item<bool>());
  EXPECT_TRUE(at::isfinite(z.grad()).all().item<bool>());
  EXPECT_TRUE(at::allclose(mu.sum(-1), at::full({4}, 5.0, at::kDouble)));
  EXPECT_TRUE(at::isfinite(ksubset_log_partition(z * 10, 5)).all().item<bool>());
}

// x_i = h(z_i - nu) with one nu and sum x = k characterizes the regularized argmax: check the
// inverse of h is z - const on the coordinates where h is invertible.
TEST(RegularizedTopk, SolutionsHaveTheKktForm) {
  at::Tensor z = at::randn({6, 9}, seeded(6), at::kDouble) * 2;
  for (const char* regularizer : {"euclidean", "categorical_entropy", "binary_entropy"})
    for (int64_t k : {1, 3, 8}) {
      at::Tensor x = regularized_topk(z, k, regularizer);
      EXPECT_TRUE(at::allclose(x.sum(-1), at::full({6}, double(k), at::kDouble), 0, 1e-10)) << regularizer;
      EXPECT_TRUE(((x >= 0) & (x <= 1)).all().item<bool>());
      const std::string name = regularizer;
      at::Tensor inverse = name == "euclidean" ? z - x : name == "categorical_entropy" ? z - x.log() : z - at::logit(x);
      at::Tensor free = name == "euclidean" ? (x > 0) & (x < 1) : name == "categorical_entropy" ? x < 1 : x > 0;
      for (int64_t r = 0; r < 6; ++r) {
        at::Tensor nu = inverse[r].index({free[r]});
        if (nu.numel() > 1) {
          EXPECT_LT((nu.max() - nu.min()).item<double>(), 1e-8) << regularizer << " k=" << k;
        }
      }
    }
}

TEST(RegularizedTopk, GradcheckFloat64) {
  at::Tensor z = at::randn({2, 6}, seeded(7), at::kDouble);
  for (const char* regularizer : {"euclidean", "categorical_entropy", "binary_entropy"})
    EXPECT_LT(testing::gradcheck_error([&](const at::Tensor& x) { return regularized_topk(x, 2, regularizer); }, z),
              1e-6)
        << regularizer;
}

// The unrolled Newton steps start at the searched root, so their forward and their autograd
// backward match the closed form to rounding, at any k and scale.
TEST(RegularizedTopk, UnrolledMatchesTheHandWrittenForwardAndBackward) {
  double worst_forward = 0, worst_backward = 0;
  uint64_t seed = 20;
  for (const char* regularizer : {"categorical_entropy", "binary_entropy"})
    for (double scale : {0.1, 1.0, 5.0, 30.0})
      for (int64_t k : {0, 1, 3, 8, 9}) {
        at::Tensor z = at::randn({5, 9}, seeded(++seed), at::kDouble) * scale;
        at::Tensor g = at::randn({5, 9}, seeded(++seed), at::kDouble);
        at::Tensor custom = z.clone().requires_grad_(true), unrolled = z.clone().requires_grad_(true);
        at::Tensor x = regularized_topk(custom, k, regularizer), y = regularized_topk_unrolled(unrolled, k, regularizer);
        (x * g).sum().backward();
        (y * g).sum().backward();
        worst_forward = std::max(worst_forward, (x - y).abs().max().item<double>());
        worst_backward = std::max(worst_backward, (custom.grad() - unrolled.grad()).abs().max().item<double>());
        EXPECT_TRUE(at::allclose(y, x, 0, 1e-12)) << regularizer << " scale " << scale << " k=" << k;
        EXPECT_TRUE(at::allclose(unrolled.grad(), custom.grad(), 0, 1e-10)) << regularizer << " scale " << scale
                                                                             << " k=" << k;
      }
  RecordProperty("max_forward_error", (::testing::Message() << worst_forward).GetString());
  RecordProperty("max_backward_error", (::testing::Message() << worst_backward).GetString());
}

TEST(RegularizedTopk, UnrolledGradcheckFloat64) {
  at::Tensor z = at::randn({2, 6}, seeded(8), at::kDouble);
  for (const char* regularizer : {"categorical_entropy", "binary_entropy"})
    EXPECT_LT(testing::gradcheck_error(
                  [&](const at::Tensor& x) { return regularized_topk_unrolled(x, 2, regularizer); }, z),
              1e-6)
        << regularizer;
}

TEST(RegularizedTopk, BadInput) {
  at::Tensor z = at::zeros({2, 4}, at::kDouble);
  EXPECT_THROW(regularized_topk(z, 5, "euclidean"), c10::ValueError);
  EXPECT_THROW(regularized_topk(z, -1, "euclidean"), c10::ValueError);
  EXPECT_THROW(regularized_topk(z, 2, "l1"), c10::ValueError);
  EXPECT_THROW(regularized_topk_unrolled(z, 2, "euclidean"), c10::ValueError);
  EXPECT_THROW(regularized_topk_unrolled(z, 5, "binary_entropy"), c10::ValueError);
  EXPECT_THROW(ksubset_marginals(at::full({2, 4}, NAN, at::kDouble), 2), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::ops
