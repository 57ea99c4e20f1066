#include "structgrad/structures/correlated_topk.h"

#include <gtest/gtest.h>

#include "structgrad/structures/registry.h"
#include "structgrad/testing/testing.h"

namespace structgrad::correlated_topk {
namespace {

using testing::seeded;

// theta for n items: (batch, 2n - 1) standard normal times `scale`.
at::Tensor scores(int64_t batch, int64_t n, double scale, uint64_t seed) {
  return at::randn({batch, 2 * n - 1}, seeded(seed), at::kDouble) * scale;
}

// z is a k-subset of n items with z[n + i] = z[i] z[i + 1].
bool is_structure(const at::Tensor& z, int64_t n, int64_t k) {
  at::Tensor items = z.narrow(-1, 0, n);
  at::Tensor pairs = z.narrow(-1, n, n - 1);
  const bool binary = ((z == 0) | (z == 1)).all().item<bool>();
  const bool sized = (items.sum(-1) == k).all().item<bool>();
  const bool paired = at::equal(pairs, items.narrow(-1, 0, n - 1) * items.narrow(-1, 1, n - 1));
  return binary && sized && paired;
}

TEST(CorrelatedTopk, EnumerateListsEveryStructureOnce) {
  at::Tensor all = enumerate(6, 3);
  EXPECT_EQ(all.size(0), 20);
  EXPECT_EQ(all.size(1), 11);
  EXPECT_TRUE(is_structure(all, 6, 3));
  EXPECT_EQ(std::get<0>(at::unique_dim(all, 0)).size(0), 20);
}

TEST(CorrelatedTopk, LogPartitionAndMarginalsMatchEnumeration) {
  for (double scale : {1.0, 50.0}) {
    for (int64_t k : {0, 1, 3, 6}) {
      const int64_t n = 6;
      at::Tensor theta = scores(5, n, scale, 1 + k);
      at::Tensor all = enumerate(n, k);
      at::Tensor energies = at::matmul(theta, all.t());  // (5, C(n, k))
      at::Tensor expected_log_z = at::logsumexp(energies, -1);
      at::Tensor expected_mu = at::matmul(at::softmax(energies, -1), all);
      EXPECT_LT((log_partition(theta, k) - expected_log_z).abs().max().item<double>(), 1e-9)
          << "scale " << scale << " k " << k;
      EXPECT_LT((marginals(theta, k) - expected_mu).abs().max().item<double>(), 1e-9)
          << "scale " << scale << " k " << k;
    }
  }
}

TEST(CorrelatedTopk, MapIsTheBestStructureByEnumeration) {
  for (int64_t k : {0, 1, 2, 4, 7}) {
    at::Tensor theta = scores(30, 7, 1.0, 10 + k);
    at::Tensor all = enumerate(7, k);
    at::Tensor best = all.index_select(0, at::matmul(theta, all.t()).argmax(-1));
    EXPECT_TRUE(at::equal(map(theta, k), best)) << "k=" << k;
  }
}

TEST(CorrelatedTopk, OneItemHasNoPairs) {
  at::Tensor theta = at::full({1, 1}, 0.3, at::kDouble);
  EXPECT_TRUE(at::equal(map(theta, 1), at::ones({1, 1}, at::kDouble)));
  EXPECT_NEAR(log_partition(theta, 1).item<double>(), 0.3, 1e-15);
  EXPECT_NEAR(log_partition(theta, 0).item<double>(), 0.0, 1e-15);
}

TEST(CorrelatedTopk, GradientsPassGradcheck) {
  at::Tensor theta = scores(2, 5, 1.0, 20);
  EXPECT_LT(testing::gradcheck_error([](const at::Tensor& t) { return log_partition(t, 2); }, theta), 1e-7);
  EXPECT_LT(testing::gradcheck_error([](const at::Tensor& t) { return marginals(t, 2); }, theta), 1e-7);
  for (const char* backward : {"custom", "finite_difference"}) {
    auto fn = [&](const at::Tensor& t) { return relax(t, 2, 0.7, "", false, seeded(21), backward); };
    EXPECT_LT(testing::gradcheck_error(fn, theta), 1e-6) << backward;
  }
}

TEST(CorrelatedTopk, SamplesAreStructuresAndHardRelaxIsTheSample) {
  const int64_t n = 8, k = 3;
  at::Tensor theta = scores(500, n, 2.0, 30);
  EXPECT_TRUE(is_structure(sample(theta, k, seeded(31)), n, k));
  at::Tensor hard = relax(theta, k, 0.5, "exponential_family", true, seeded(32));
  EXPECT_TRUE(at::equal(hard, sample(theta, k, seeded(32))));
  at::Tensor soft = relax(theta, k, 0.5, "", false, seeded(32));
  EXPECT_TRUE(at::allclose(soft.narrow(-1, 0, n).sum(-1), at::full({500}, double(k), at::kDouble)));
}

// With very large pair scores, a sample is one contiguous run of k items.
TEST(CorrelatedTopk, LargePairScoresSelectARun) {
  const int64_t n = 10, k = 4;
  at::Tensor theta = at::cat({at::zeros({200, n}, at::kDouble), at::full({200, n - 1}, 30.0, at::kDouble)}, -1);
  at::Tensor z = sample(theta, k, seeded(40));
  EXPECT_TRUE((z.narrow(-1, n, n - 1).sum(-1) == k - 1).all().item<bool>());
}

TEST(CorrelatedTopk, LowTemperatureAndHugeLogitsStayFinite) {
  at::Tensor theta = (scores(8, 12, 1e4, 50)).requires_grad_(true);
  at::Tensor y = relax(theta, 4, 1e-3, "", false, seeded(51));
  (y * at::arange(23, at::kDouble)).sum().backward();
  EXPECT_TRUE(at::isfinite(y).all().item<bool>());
  EXPECT_TRUE(at::isfinite(theta.grad()).all().item<bool>());
  EXPECT_TRUE(at::isfinite(log_partition(theta.detach() * 1e3, 4)).all().item<bool>());
}

TEST(CorrelatedTopk, FloatInputGivesFloatOutput) {
  at::Tensor theta = scores(3, 5, 1.0, 60).to(at::kFloat);
  EXPECT_EQ(marginals(theta, 2).scalar_type(), at::kFloat);
  EXPECT_TRUE(at::allclose(marginals(theta, 2).to(at::kDouble), marginals(theta.to(at::kDouble), 2), 1e-5, 1e-6));
}

TEST(CorrelatedTopk, RefusesWhatIsNotAnInstance) {
  EXPECT_THROW(map(at::zeros({3, 4}, at::kDouble), 1), c10::ValueError);         // not 2n - 1 scores
  EXPECT_THROW(map(at::zeros({3, 5}, at::kDouble), 4), c10::ValueError);         // k > n = 3
  EXPECT_THROW(map(at::zeros({3, 5}, at::kDouble), -1), c10::ValueError);
  EXPECT_THROW(marginals(at::full({5}, NAN, at::kDouble), 1), c10::ValueError);
  EXPECT_THROW(relax(at::zeros({5}, at::kDouble), 1, 0.0), c10::ValueError);     // tau
  EXPECT_THROW(relax(at::zeros({5}, at::kDouble), 1, 1.0, "euclidean"), c10::ValueError);
  EXPECT_THROW(relax(at::zeros({5}, at::kDouble), 1, 1.0, "", false, c10::nullopt, "unroll"), c10::ValueError);
}

TEST(CorrelatedTopk, RegistryFamilyHasItsShape) {
  const Family f = structgrad::family("correlated_topk", {{"k", 2}});
  EXPECT_EQ(f.event_shape(6), std::vector<int64_t>{11});
  EXPECT_TRUE(at::equal(f.enumerate(at::zeros({11}, at::kDouble)), enumerate(6, 2)));
}

}  // namespace
}  // namespace structgrad::correlated_topk
