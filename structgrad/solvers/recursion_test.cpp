#include "structgrad/solvers/recursion.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "structgrad/solvers/kruskal.h"
#include "structgrad/solvers/recursive_algorithms.h"
#include "structgrad/testing/trace_program.h"

namespace structgrad::solvers {
namespace {

using testing::program_log_prob;

std::vector<double> random_scores(int64_t count, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0, 3);
  std::vector<double> s(count);
  for (double& v : s) v = normal(rng);
  return s;
}

// The mask of the pairs i < j of n vertices: one key per undirected edge.
std::vector<uint8_t> upper_triangle(int64_t n) {
  std::vector<uint8_t> mask(n * n, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) mask[i * n + j] = 1;
  return mask;
}

std::vector<double> structure_of(const Recursion& algorithm) {
  std::vector<double> x(algorithm.structure_size(), 0);
  algorithm.combine(x.data());
  return x;
}

// Forces the driver's general path (residual updates E' = E - E_T) on a nested algorithm.
template <class Algorithm>
class General : public Algorithm {
 public:
  using Algorithm::Algorithm;
  bool nested() const override { return false; }
};

// Forces replay to test active() on every key instead of asking which keys left.
template <class Algorithm>
class Untracked : public Algorithm {
 public:
  using Algorithm::Algorithm;
  bool removed_keys(std::vector<int64_t>&) const override { return false; }
};

template <class Algorithm, class... Args>
void expect_same_exit_levels(const std::vector<int64_t>& trace, const std::vector<uint8_t>& present, Args... args) {
  Algorithm tracked(args...);
  Untracked<Algorithm> untracked(args...);
  TraceProgram a, b;
  ASSERT_TRUE(replay(tracked, trace.data(), int64_t(trace.size()), present.data(), a).ok);
  ASSERT_TRUE(replay(untracked, trace.data(), int64_t(trace.size()), present.data(), b).ok);
  EXPECT_EQ(a.exit_level, b.exit_level);
  EXPECT_EQ(a.chosen, b.chosen);
}

TEST(Recursion, SelectionTakesTheBestKeysInOrder) {
  std::mt19937_64 rng(1);
  const int64_t n = 9, k = 4;
  std::vector<uint8_t> present(n, 1);
  for (int trial = 0; trial < 20; ++trial) {
    auto s = random_scores(n, rng);
    SelectionRecursion topk(n, k, false);
    auto run_result = run(topk, s.data(), present.data());
    ASSERT_EQ(run_result.status, RecursionRun::Status::kOk);
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
    EXPECT_EQ(run_result.trace, std::vector<int64_t>(order.begin(), order.begin() + k));
    auto x = structure_of(topk);
    EXPECT_EQ(std::accumulate(x.begin(), x.end(), 0.0), double(k));

    General<SelectionRecursion> general(n, k, false);
    EXPECT_EQ(run(general, s.data(), present.data()).trace, run_result.trace);
    expect_same_exit_levels<SelectionRecursion>(run_result.trace, present, n, k, false);
  }
}

TEST(Recursion, GeneralPathAgreesInLinearAndLogSpace) {
  // A score spread beyond 700 switches the residuals to log space; both must give the sorted
  // path's trace.
  std::mt19937_64 rng(4);
  const int64_t n = 8;
  const std::vector<uint8_t> present = upper_triangle(n);
  for (double scale : {1.0, 1e3}) {
    for (int trial = 0; trial < 20; ++trial) {
      auto s = random_scores(n * n, rng);
      for (double& v : s) v *= scale;
      KruskalRecursion sorted(n);
      General<KruskalRecursion> general(n);
      EXPECT_EQ(run(general, s.data(), present.data()).trace, run(sorted, s.data(), present.data()).trace) << scale;
    }
  }
}

TEST(Recursion, ReplayGivesTheGroupsOfEveryLevel) {
  const int64_t n = 5, k = 3;
  SelectionRecursion topk(n, k, false);
  std::vector<uint8_t> present{1, 1, 0, 1, 1};
  std::vector<int64_t> trace{3, 0, 4};
  TraceProgram p;
  ASSERT_TRUE(replay(topk, trace.data(), 3, present.data(), p).ok);
  EXPECT_EQ(p.chosen, (std::vector<int32_t>{3, 0, 4}));
  // Groups of 4, 3 and 2 present keys: key 3 leaves after group 0, key 0 after 1, keys 1, 4 after 2.
  EXPECT_TRUE(p.single_group);
  EXPECT_EQ(p.exit_level, (std::vector<int32_t>{2, 3, 0, 1, 3}));
  // Plackett-Luce: probabilities of the three draws without replacement.
  std::vector<double> theta{0.1, -0.3, 0.0, 1.2, 0.5};
  const double e0 = std::exp(0.1), e1 = std::exp(-0.3), e3 = std::exp(1.2), e4 = std::exp(0.5);
  const double expected = std::log(e3 / (e0 + e1 + e3 + e4)) + std::log(e0 / (e0 + e1 + e4)) + std::log(e4 / (e1 + e4));
  EXPECT_NEAR(program_log_prob(p, theta), expected, 1e-12);
}

TEST(Recursion, ReplayRejectsInvalidTraces) {
  SelectionRecursion topk(4, 2, false);
  std::vector<uint8_t> present{1, 1, 0, 1};
  TraceProgram p;
  std::vector<int64_t> repeated{1, 1}, absent{2, 0}, out_of_range{7, 0}, longer{0, 1, 3};
  EXPECT_NE(replay(topk, repeated.data(), 2, present.data(), p).message.find("trace[1] = 1"), std::string::npos);
  EXPECT_FALSE(replay(topk, absent.data(), 2, present.data(), p).ok);
  EXPECT_FALSE(replay(topk, out_of_range.data(), 2, present.data(), p).ok);
  EXPECT_NE(replay(topk, longer.data(), 1, present.data(), p).message.find("too short"), std::string::npos);
  EXPECT_NE(replay(topk, longer.data(), 3, present.data(), p).message.find("too long"), std::string::npos);
}

TEST(Recursion, KruskalMatchesTheSpanningTreeSolver) {
  std::mt19937_64 rng(2);
  const int64_t n = 7;
  for (int trial = 0; trial < 30; ++trial) {
    auto s = random_scores(n * n, rng);
    std::vector<uint8_t> present(n * n, 0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) {
        s[j * n + i] = s[i * n + j];
        present[i * n + j] = trial % 3 == 0 ? (rng() % 4 != 0) : 1;  // some graphs lose edges
      }
    std::vector<double> w(s);
    for (int64_t e = 0; e < n * n; ++e)
      if (!present[e] && e / n < e % n) w[e] = w[(e % n) * n + e / n] = -INFINITY;
    auto tree = max_spanning_tree(w.data(), n);
    KruskalRecursion kruskal(n);
    auto r = run(kruskal, s.data(), present.data());
    if (tree.status == SpanningTreeStatus::kDisconnected) {
      EXPECT_EQ(r.status, RecursionRun::Status::kInfeasible);
      continue;
    }
    ASSERT_EQ(r.status, RecursionRun::Status::kOk);
    ASSERT_EQ(r.trace.size(), tree.edges.size());
    for (size_t l = 0; l < r.trace.size(); ++l) EXPECT_EQ(r.trace[l], tree.edges[l].first * n + tree.edges[l].second);

    General<KruskalRecursion> general(n);
    EXPECT_EQ(run(general, s.data(), present.data()).trace, r.trace);
    expect_same_exit_levels<KruskalRecursion>(r.trace, present, n);
    TraceProgram p;
    EXPECT_TRUE(replay(kruskal, r.trace.data(), int64_t(r.trace.size()), present.data(), p).ok);
    // Any order of a tree's edges is a valid Kruskal trace.
    std::vector<int64_t> swapped = r.trace;
    std::swap(swapped[0], swapped[1]);
    EXPECT_TRUE(replay(kruskal, swapped.data(), int64_t(swapped.size()), present.data(), p).ok);
  }
}

TEST(Recursion, KruskalRejectsAnEdgeClosingACycle) {
  const int64_t n = 4;
  const std::vector<uint8_t> present = upper_triangle(n);
  KruskalRecursion kruskal(n);
  TraceProgram p;
  std::vector<int64_t> cycle{0 * n + 1, 1 * n + 2, 0 * n + 2};
  auto status = replay(kruskal, cycle.data(), 3, present.data(), p);
  EXPECT_FALSE(status.ok);
  EXPECT_NE(status.message.find("trace[2]"), std::string::npos);
  std::vector<int64_t> lower{1 * n + 0, 1 * n + 2, 2 * n + 3};  // keys live in the upper triangle
  EXPECT_FALSE(replay(kruskal, lower.data(), 3, present.data(), p).ok);
}

TEST(Recursion, MatchingIsGreedy) {
  std::mt19937_64 rng(3);
  const int64_t n = 6;
  std::vector<uint8_t> present(n * n, 1);
  for (int trial = 0; trial < 20; ++trial) {
    auto s = random_scores(n * n, rng);
    MatchingRecursion matching(n);
    auto r = run(matching, s.data(), present.data());
    ASSERT_EQ(r.trace.size(), size_t(n));
    std::vector<uint8_t> row(n, 0), column(n, 0);
    for (int64_t e : r.trace) {
      double best = -INFINITY;
      for (int64_t f = 0; f < n * n; ++f)
        if (!row[f / n] && !column[f % n]) best = std::max(best, s[f]);
      EXPECT_EQ(s[e], best);
      row[e / n] = column[e % n] = 1;
    }
    General<MatchingRecursion> general(n);
    EXPECT_EQ(run(general, s.data(), present.data()).trace, r.trace);
    expect_same_exit_levels<MatchingRecursion>(r.trace, present, n);
  }
}

TEST(Recursion, EnumeratedTracesAreEveryTraceWithTotalProbabilityOne) {
  std::mt19937_64 rng(5);
  const int64_t n = 4;
  const std::vector<uint8_t> upper = upper_triangle(n);
  std::vector<uint8_t> all(n * n, 1);
  SelectionRecursion topk(n, 2, false), ranking(n, n, true);
  KruskalRecursion kruskal(n);
  BinaryTreeRecursion tree(n);
  MatchingRecursion matching(3);
  struct Expected {
    Recursion* algorithm;
    const uint8_t* present;
    size_t count;
  };
  // 4 * 3 ordered pairs, 4! orders, 16 trees * 3! edge orders, Catalan(4), 3! * 3! entry orders.
  for (const Expected& e : {Expected{&topk, all.data(), 12}, Expected{&ranking, all.data(), 24},
                            Expected{&kruskal, upper.data(), 96}, Expected{&tree, all.data(), 14},
                            Expected{&matching, all.data(), 36}}) {
    auto traces = enumerate_traces(*e.algorithm, e.present, 1000);
    EXPECT_EQ(traces.size(), e.count);
    auto theta = random_scores(e.algorithm->num_keys(), rng);
    double total = 0;
    TraceProgram p;
    for (const auto& t : traces) {
      ASSERT_TRUE(replay(*e.algorithm, t.trace.data(), int64_t(t.trace.size()), e.present, p).ok);
      total += std::exp(testing::program_log_prob(p, theta));
    }
    EXPECT_NEAR(total, 1.0, 1e-12);
  }
  EXPECT_THROW(enumerate_traces(ranking, all.data(), 10), std::length_error);
}

TEST(Recursion, BinaryTreeSplitsAtTheBestNode) {
  const int64_t n = 6;
  std::vector<double> s{0.0, 3.0, 1.0, -1.0, 5.0, 2.0};
  std::vector<uint8_t> present(n, 1);
  BinaryTreeRecursion tree(n);
  auto r = run(tree, s.data(), present.data());
  // Level 1: node 4 over everything; level 2: node 1 over [0, 4), node 5 over [5, 6);
  // level 3: node 0 over [0, 1), node 2 over [2, 4); level 4: node 3.
  EXPECT_EQ(r.trace, (std::vector<int64_t>{4, 1, 5, 0, 2, 3}));
  auto x = structure_of(tree);
  EXPECT_EQ(x[4 * n + 1], 1);
  EXPECT_EQ(x[4 * n + 5], 1);
  EXPECT_EQ(x[1 * n + 0], 1);
  EXPECT_EQ(x[1 * n + 2], 1);
  EXPECT_EQ(x[2 * n + 3], 1);
  EXPECT_EQ(std::accumulate(x.begin(), x.end(), 0.0), double(n - 1));
  General<BinaryTreeRecursion> general(n);
  EXPECT_EQ(run(general, s.data(), present.data()).trace, r.trace);
}

}  // namespace
}  // namespace structgrad::solvers
