// The trace verbs of every recursive family against enumeration, chi-square tests and
// rejection sampling; the score-function estimators against the exact gradient.
#include "structgrad/structures/recursive.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <map>

#include "structgrad/estimators/check.h"
#include "structgrad/solvers/cle_recursion.h"
#include "structgrad/structures/arborescence.h"
#include "structgrad/structures/binary_tree.h"
#include "structgrad/structures/matching.h"
#include "structgrad/structures/ranking.h"
#include "structgrad/structures/spanning_tree.h"
#include "structgrad/structures/topk.h"
#include "structgrad/testing/testing.h"

namespace structgrad {
namespace {

using testing::seeded;

at::Tensor scores(at::IntArrayRef sizes, uint64_t seed, double scale = 1.0) {
  return at::randn(sizes, seeded(seed), at::kDouble) * scale;
}

at::Tensor symmetric(int64_t n, uint64_t seed) {
  at::Tensor a = scores({n, n}, seed).triu(1);
  return a + a.t();
}

// Families with a log_prob of X built from trace probabilities, each on a small theta.
struct RecursiveCase {
  const char* name;
  Family family;
  at::Tensor theta;
};

std::vector<RecursiveCase> cases() {
  return {{"topk", topk::family(2), scores({5}, 1)},
          {"ranking", ranking::family(), scores({4}, 2)},
          {"matching", matching::family(), scores({3, 3}, 3)},
          {"spanning_tree", spanning_tree::family(), symmetric(4, 4)},
          {"binary_tree", binary_tree::family(), scores({4}, 5)}};
}

TEST(RecursiveFamilies, StructureProbabilitiesFromTracesSumToOne) {
  for (auto& c : cases()) {
    at::Tensor all = c.family.enumerate(c.theta);
    at::Tensor p = c.family.log_prob(c.theta, all).exp();
    EXPECT_NEAR(p.sum().item<double>(), 1.0, 1e-9) << c.name;
  }
}

TEST(RecursiveFamilies, TraceSamplesFollowTheExactDistribution) {
  const int64_t draws = 20000;
  for (auto& c : cases()) {
    at::Tensor all = c.family.enumerate(c.theta);  // (N, *structure)
    at::Tensor p = c.family.log_prob(c.theta, all).exp();
    std::vector<int64_t> repeated{draws};
    repeated.insert(repeated.end(), c.theta.sizes().begin(), c.theta.sizes().end());
    Trace t = c.family.trace(c.theta.expand(repeated), seeded(11));
    // Which enumerated structure every draw is.
    at::Tensor flat_all = all.reshape({all.size(0), -1}), flat_x = t.structure.reshape({draws, -1});
    at::Tensor match = (flat_x.unsqueeze(1) == flat_all.unsqueeze(0)).all(-1);  // (draws, N)
    ASSERT_TRUE((match.sum(-1) == 1).all().item<bool>()) << c.name << ": a sample is not a structure";
    at::Tensor counts = match.sum(0);
    const double statistic = testing::chi_square_statistic(counts, p);
    EXPECT_LT(statistic, testing::chi_square_critical(all.size(0) - 1, 1e-3)) << c.name;
    // The sample and the trace's structure are the same draw.
    EXPECT_TRUE(at::equal(c.family.sample(c.theta.expand(repeated), seeded(11)), t.structure)) << c.name;
  }
}

TEST(RecursiveFamilies, TraceLogProbHasTheGradientOfItsComposedForm) {
  // Plackett-Luce: log P = sum_r theta_{o_r} - logsumexp(theta of the items ranked r and later).
  at::Tensor theta = scores({3, 6}, 21, 4.0);
  Trace t = ranking::trace(theta, seeded(22));
  auto composed = [&](const at::Tensor& th) {
    at::Tensor ordered = th.gather(-1, t.trace);
    return (ordered - ordered.flip(-1).logcumsumexp(-1).flip(-1)).sum(-1);
  };
  EXPECT_TRUE(at::allclose(ranking::trace_log_prob(theta, t.trace), composed(theta), 1e-10, 1e-10));
  EXPECT_LT(testing::gradcheck_error([&](const at::Tensor& th) { return ranking::trace_log_prob(th, t.trace); }, theta),
            1e-6);
  at::Tensor graph = symmetric(6, 23);
  Trace tree = spanning_tree::trace(graph, seeded(24));
  EXPECT_LT(testing::gradcheck_error(
                [&](const at::Tensor& th) { return spanning_tree::trace_log_prob((th + th.t()) / 2, tree.trace); }, graph),
            1e-6);
}

TEST(RecursiveFamilies, LogProbIsFiniteAtExtremeLogits) {
  at::Tensor theta = scores({4, 8}, 31, 1e3);
  Trace t = ranking::trace(theta, seeded(32));
  at::Tensor th = theta.clone().requires_grad_();
  at::Tensor lp = ranking::trace_log_prob(th, t.trace);
  lp.sum().backward();
  EXPECT_TRUE(lp.isfinite().all().item<bool>());
  EXPECT_TRUE(th.grad().isfinite().all().item<bool>());
  at::Tensor e = ranking::conditional_gumbel(theta, t.trace, seeded(33));
  EXPECT_TRUE(e.isfinite().all().item<bool>());
}

TEST(RecursiveFamilies, ConditionalGumbelReproducesTheTrace) {
  at::Tensor theta = scores({200, 7}, 41);
  Trace t = ranking::trace(theta, seeded(42));
  at::Tensor e = ranking::conditional_gumbel(theta, t.trace, seeded(43));
  EXPECT_TRUE(at::equal(ranking::map(e), t.structure));
  at::Tensor graph = symmetric(6, 44).expand({100, 6, 6});
  Trace tree = spanning_tree::trace(graph, seeded(45));
  EXPECT_TRUE(at::equal(spanning_tree::map(spanning_tree::conditional_gumbel(graph, tree.trace, seeded(46))),
                        tree.structure));
  // Chu-Liu-Edmonds' trace is the minimum arborescence under E: rerunning the recursion on the
  // conditional perturbation must give the same trace.
  at::Tensor directed = scores({100, 5, 5}, 47);
  Trace arb = arborescence::trace(directed, 0, seeded(48));
  at::Tensor again = arborescence::conditional_gumbel(directed, arb.trace, 0, seeded(49)).reshape({100, 25});
  ops::TraceSample rerun = ops::recursive_trace(
      again.masked_fill(~at::isfinite(again), 0), at::isfinite(again),
      [] { return std::make_unique<solvers::ChuLiuEdmondsRecursion>(5, 0); }, c10::nullopt, "infeasible",
      /*perturb=*/false);
  EXPECT_TRUE(at::equal(rerun.trace, arb.trace));
  EXPECT_TRUE(at::equal(rerun.structure.reshape({100, 5, 5}), arb.structure));
}

TEST(RecursiveFamilies, ConditionalGumbelMatchesRejectionSampling) {
  // E | T against rejection sampling: of many unconditional draws keep those whose trace is the
  // most frequent one, and compare their perturbations with conditional draws given that trace.
  const int64_t draws = 60000;
  std::vector<RecursiveCase> all = cases();
  all.push_back({"arborescence", arborescence::family(1), scores({3, 3}, 54)});
  for (auto& c : all) {
    std::vector<int64_t> repeated{draws};
    repeated.insert(repeated.end(), c.theta.sizes().begin(), c.theta.sizes().end());
    at::Tensor theta = c.theta.expand(repeated);
    Trace t = c.family.trace(theta, seeded(52));
    auto [unique, inverse, counts] = at::unique_dim(t.trace, 0, /*sorted=*/true, /*return_inverse=*/true,
                                                    /*return_counts=*/true);
    (void)unique;
    const int64_t most = counts.argmax().item<int64_t>();
    at::Tensor target = t.trace[inverse.eq(most).nonzero()[0][0]];
    at::Tensor accepted = (t.trace == target).all(-1);
    at::Tensor rejection = t.perturbed.index({accepted}).reshape({accepted.sum().item<int64_t>(), -1});
    ASSERT_GT(rejection.size(0), 1000) << c.name;
    at::Tensor conditional = c.family.conditional_gumbel(theta, target.expand({draws, target.size(0)}), seeded(53));
    conditional = conditional.reshape({draws, -1});
    at::Tensor keys = at::isfinite(rejection[0]);
    ASSERT_TRUE(at::equal(keys, at::isfinite(conditional).all(0))) << c.name;
    rejection = rejection.index({at::indexing::Slice(), keys});
    conditional = conditional.index({at::indexing::Slice(), keys});
    at::Tensor difference = rejection.mean(0) - conditional.mean(0);
    at::Tensor standard_error = (rejection.var(0) / rejection.size(0) + conditional.var(0) / draws).sqrt();
    EXPECT_LT((difference / standard_error).abs().max().item<double>(), 4.5) << c.name;
    EXPECT_LT((rejection.std(0) - conditional.std(0)).abs().max().item<double>(), 0.08) << c.name;
  }
}

TEST(RecursiveFamilies, InvalidTracesAreRejected) {
  at::Tensor theta = scores({2, 5}, 61);
  at::Tensor repeated = at::tensor({1, 1, 2, 0, 3, 4}, at::kLong).view({2, 3});
  EXPECT_THROW(topk::trace_log_prob(theta, repeated, 3), c10::ValueError);
  at::Tensor short_trace = at::tensor({1, -1, 2, 0}, at::kLong).view({2, 2});
  EXPECT_THROW(topk::trace_log_prob(theta, short_trace, 2), c10::ValueError);
  at::Tensor inner_padding = at::tensor({-1, 1, 2, 0}, at::kLong).view({2, 2});
  EXPECT_THROW(topk::trace_log_prob(theta, inner_padding, 2), c10::ValueError);
  at::Tensor cycle = at::tensor({0 * 4 + 1, 1 * 4 + 2, 0 * 4 + 2}, at::kLong).view({1, 3});
  EXPECT_THROW(spanning_tree::trace_log_prob(symmetric(4, 62).unsqueeze(0), cycle), c10::ValueError);
}

// The score identity E[grad log P(T)] = 0, tested with Hotelling's T^2 of the mean score against
// the chi-square law of its rank: a miscalibrated trace probability (the seed README's reference
// Chu-Liu-Edmonds) fails it.
TEST(RecursiveFamilies, TraceScoresHaveMeanZero) {
  const int64_t draws = 20000;
  struct Score {
    const char* name;
    std::function<Trace(const at::Tensor&)> trace;
    std::function<at::Tensor(const at::Tensor&, const at::Tensor&)> log_prob;
    at::Tensor theta;
  };
  std::vector<Score> all{
      {"arborescence", [](const at::Tensor& t) { return arborescence::trace(t, 1, seeded(101)); },
       [](const at::Tensor& t, const at::Tensor& tr) { return arborescence::trace_log_prob(t, tr, 1); },
       scores({6, 6}, 102, 2.0)},
      {"spanning_tree", [](const at::Tensor& t) { return spanning_tree::trace(t, seeded(103)); },
       [](const at::Tensor& t, const at::Tensor& tr) { return spanning_tree::trace_log_prob(t, tr); },
       symmetric(6, 104) * 2.0},
      {"binary_tree", [](const at::Tensor& t) { return binary_tree::trace(t, seeded(105)); },
       [](const at::Tensor& t, const at::Tensor& tr) { return binary_tree::trace_log_prob(t, tr); },
       scores({7}, 106, 2.0)}};
  for (auto& s : all) {
    std::vector<int64_t> repeated{draws};
    repeated.insert(repeated.end(), s.theta.sizes().begin(), s.theta.sizes().end());
    at::Tensor theta = s.theta.expand(repeated).clone().requires_grad_();
    Trace t = s.trace(theta.detach());
    s.log_prob(theta, t.trace).sum().backward();
    at::Tensor g = theta.grad().reshape({draws, -1});
    at::Tensor centered = g - g.mean(0);
    auto [values, vectors] = at::linalg_eigh(centered.t().mm(centered) / double(draws - 1));
    at::Tensor kept = values > 1e-9 * values.max();  // the scores sum to zero within groups
    at::Tensor projected = vectors.t().mv(g.mean(0)).masked_select(kept);
    const double t_squared = (projected.pow(2) / (values.masked_select(kept) / double(draws))).sum().item<double>();
    const int64_t rank = kept.sum().item<int64_t>();
    EXPECT_LT(t_squared, testing::chi_square_critical(rank, 1e-3)) << s.name << " rank " << rank;
    EXPECT_GT(t_squared, testing::chi_square_critical(rank, 1 - 1e-3)) << s.name << " rank " << rank;
  }
}

TEST(RecursiveEstimators, ScoreFunctionEstimatorsAreUnbiasedAndOrderedByVariance) {
  estimators::Options options;
  options.num_samples = 4;
  options.relax.tau = 0.5;
  for (auto& c : cases()) {
    if (std::string(c.name) == "matching" || std::string(c.name) == "binary_tree") continue;  // run in pytest
    at::Tensor a = scores(c.theta.sizes(), 71), b = scores(c.theta.sizes(), 72);
    if (std::string(c.name) == "ranking") {
      a = scores({4, 4}, 71);
      b = scores({4, 4}, 72);
    }
    estimators::LossFn f = estimators::quadratic_loss(a, b);
    std::map<std::string, double> variance;
    for (const char* name : {"e_reinforce", "t_reinforce", "t_reinforce_plus", "relax"}) {
      if (std::string(name) == "relax" && !c.family.relax_scores) continue;
      auto report = estimators::check_estimator(name, c.family, c.theta, f, options, 6000, 81);
      EXPECT_TRUE(report.passed) << c.name << " " << name << ": " << report.verdict;
      variance[name] = report.variance;
    }
    // seed 002 Eq. 5: marginalizing E given T cannot raise the variance.
    EXPECT_GT(variance["e_reinforce"], variance["t_reinforce"]) << c.name;
  }
}

TEST(RecursiveEstimators, ExactOverTracesIsExactOverStructuresWhereTheLawsAgree) {
  for (auto& c : cases()) {
    at::Tensor a = scores(c.family.map(c.theta).sizes(), 111), b = scores(c.family.map(c.theta).sizes(), 112);
    estimators::LossFn f = estimators::quadratic_loss(a, b);
    std::vector<int64_t> sizes{3};
    sizes.insert(sizes.end(), c.theta.sizes().begin(), c.theta.sizes().end());
    at::Tensor theta = c.theta.expand(sizes).clone().requires_grad_();
    auto over_traces = estimators::exact_traces(c.family, theta, f);
    auto over_structures = estimators::exact(c.family, theta, f);
    EXPECT_TRUE(at::allclose(over_traces.loss, over_structures.loss, 1e-9, 1e-12)) << c.name;
    at::Tensor g1 = torch::autograd::grad({over_traces.surrogate}, {theta})[0];
    at::Tensor g2 = torch::autograd::grad({over_structures.surrogate}, {theta})[0];
    EXPECT_TRUE(at::allclose(g1, g2, 1e-8, 1e-10)) << c.name;
  }
}

TEST(RecursiveEstimators, ArborescenceTraceEstimatorsAreUnbiasedUnderTheTraceLaw) {
  at::Tensor theta = scores({4, 4}, 113);
  estimators::LossFn f = estimators::quadratic_loss(scores({4, 4}, 114), scores({4, 4}, 115));
  estimators::Options options;
  options.num_samples = 4;
  for (const char* name : {"t_reinforce_plus", "e_reinforce"}) {
    auto report = estimators::check_estimator(name, arborescence::family(2), theta, f, options, 4000, 116);
    EXPECT_TRUE(report.passed) << name << ": " << report.verdict;
  }
}

TEST(RecursiveEstimators, GumbelRaoHasTheStraightThroughMeanAndLessVariance) {
  at::Tensor theta = scores({5}, 91);
  estimators::Options options;
  options.relax.tau = 1.0;
  options.relax.hard = true;
  options.num_conditional = 8;
  auto f = estimators::quadratic_loss(scores({5}, 92), scores({5}, 93));
  auto rao = estimators::check_estimator("gumbel_rao", topk::family(2), theta, f, options, 8000, 94);
  auto straight = estimators::check_estimator("relaxed", topk::family(2), theta, f, options, 8000, 95);
  at::Tensor z = (rao.mean - straight.mean) / (rao.standard_error.pow(2) + straight.standard_error.pow(2)).sqrt();
  EXPECT_LT(z.abs().max().item<double>(), 4.0);
  EXPECT_LT(rao.variance, straight.variance);
  EXPECT_TRUE(rao.bias_detected);
}

}  // namespace
}  // namespace structgrad
