#include "structgrad/structures/pairwise_binary.h"

#include <gtest/gtest.h>

#include <cmath>

#include "structgrad/testing/testing.h"

namespace structgrad::pairwise_binary {
namespace {

using testing::seeded;

at::Tensor symmetric(int64_t batch, int64_t n, uint64_t seed, bool nonnegative) {
  at::Tensor a = at::randn({batch, n, n}, seeded(seed), at::kDouble).triu(1);
  if (nonnegative) a = a.abs();
  return a + a.transpose(-1, -2);
}

// The best enumerated z of every instance.
at::Tensor brute_force(const at::Tensor& h, const at::Tensor& a) {
  at::Tensor all = enumerate(h.size(-1));
  at::Tensor scores = score(h, a, all.unsqueeze(1));  // (2^n, B)
  return all.index_select(0, scores.argmax(0));
}

TEST(PairwiseBinaryFamily, EverySolverFindsTheMaximum) {
  const int64_t batch = 30, n = 9;
  at::Tensor h = at::randn({batch, n}, seeded(1), at::kDouble);
  for (bool nonnegative : {true, false}) {
    at::Tensor a = symmetric(batch, n, 2, nonnegative);
    at::Tensor best = score(h, a, brute_force(h, a));
    std::vector<std::string> solvers{"auto", "integer_program", "enumeration"};
    if (nonnegative) solvers.push_back("max_flow");
    for (const auto& solver : solvers) {
      MapResult r = map_with_status(h, a, {solver});
      EXPECT_TRUE((r.status == 0).all().item<bool>()) << solver;
      EXPECT_TRUE(at::allclose(score(h, a, r.z), best)) << solver << " nonnegative " << nonnegative;
    }
  }
}

TEST(PairwiseBinaryFamily, MaxFlowRefusesNegativeInteractions) {
  at::Tensor h = at::randn({2, 5}, seeded(3), at::kDouble);
  at::Tensor a = symmetric(2, 5, 4, false);
  EXPECT_THROW(map(h, a, {"max_flow"}), c10::ValueError);
  EXPECT_THROW(map(h, a, {"simplex"}), c10::ValueError);
}

TEST(PairwiseBinaryFamily, SampleIsTheMapOfTheDrawnNoise) {
  at::Tensor h = at::randn({50, 6}, seeded(5), at::kDouble);
  at::Tensor a = symmetric(50, 6, 6, true);
  at::Tensor x = sample(h, a, /*pairwise_noise=*/true, seeded(7));
  auto g = seeded(7);
  at::Tensor unary = logistic_noise(h.sizes(), h.options(), g);
  at::Tensor upper = logistic_noise(a.sizes(), a.options(), g).triu(1);
  at::Tensor expected = map(h + unary, a + upper + upper.transpose(-1, -2));
  EXPECT_TRUE(at::equal(x, expected));
  // Unary noise alone keeps a supermodular score supermodular, so max-flow applies.
  at::Tensor unary_only = sample(h, a, /*pairwise_noise=*/false, seeded(8), {"max_flow"});
  EXPECT_EQ(unary_only.sizes(), h.sizes());
}

TEST(PairwiseBinaryFamily, UnaryOnlyModelSamplesIndependentBernoullis) {
  // With a = 0 and unary noise only, the perturb-and-MAP law is independent Bernoulli(sigmoid(h_i)).
  const int64_t draws = 20000;
  at::Tensor h = at::tensor({-1.0, 0.3, 2.0}, at::kDouble);
  at::Tensor x = sample(h.expand({draws, 3}), at::zeros({draws, 3, 3}, at::kDouble), false, seeded(9));
  at::Tensor p = at::sigmoid(h);
  at::Tensor z = (x.mean(0) - p) / (p * (1 - p) / draws).sqrt();
  EXPECT_LT(z.abs().max().item<double>(), 4.0);
}

TEST(PairwiseBinaryFamily, LogPartitionHasTheMarginalsAsGradient) {
  at::Tensor h = at::randn({2, 4}, seeded(10), at::kDouble);
  at::Tensor a = symmetric(2, 4, 11, false);
  EXPECT_LT(testing::gradcheck_error([&](const at::Tensor& x) { return log_partition(x, a); }, h), 1e-6);
  at::Tensor all = enumerate(4);
  at::Tensor p = at::softmax(score(h, a, all.unsqueeze(1)), 0);  // (16, 2)
  at::Tensor marginals = (p.unsqueeze(-1) * all.unsqueeze(1)).sum(0);
  at::Tensor hh = h.clone().requires_grad_();
  log_partition(hh, a).sum().backward();
  EXPECT_TRUE(at::allclose(hh.grad(), marginals));
}

TEST(PairwiseBinaryFamily, BadInput) {
  at::Tensor h = at::randn({2, 4}, seeded(12), at::kDouble);
  at::Tensor a = symmetric(2, 4, 13, true);
  EXPECT_THROW(map(h, a.narrow(-1, 0, 3)), c10::ValueError);
  EXPECT_THROW(map(h, a + at::randn({2, 4, 4}, seeded(14), at::kDouble)), c10::ValueError);  // asymmetric
  at::Tensor with_nan = h.clone();
  with_nan[0][0] = NAN;
  EXPECT_THROW(map(with_nan, a), c10::ValueError);
  EXPECT_THROW(map(h, a, {"auto", 0.0}), c10::ValueError);
  at::Tensor big = at::randn({1, 60}, seeded(15), at::kDouble);
  // CBC never runs unbounded unless asked to.
  EXPECT_TRUE(std::isfinite(MapOptions{}.time_limit_seconds) && MapOptions{}.time_limit_seconds > 0);
  MapResult limited = map_with_status(big, symmetric(1, 60, 16, false), {"integer_program", 0.01});
  EXPECT_TRUE(((limited.status == 0) | (limited.status == 1)).all().item<bool>());
  EXPECT_TRUE(((limited.z == 0) | (limited.z == 1)).all().item<bool>());
}

}  // namespace
}  // namespace structgrad::pairwise_binary
