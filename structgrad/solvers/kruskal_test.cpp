#include "structgrad/solvers/kruskal.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "structgrad/solvers/enumerate.h"
#include "structgrad/testing/random_weights.h"

namespace structgrad::solvers {
namespace {

using testing::kAbsent;

std::vector<double> random_graph(int64_t n, double p_absent, bool integer, std::mt19937_64& rng) {
  return testing::random_weights(n, p_absent, integer, /*symmetric=*/true, rng);
}

// Checks that edges form a spanning tree of the present edges of w; returns its weight.
double tree_weight(const std::vector<std::pair<int64_t, int64_t>>& edges, const std::vector<double>& w, int64_t n) {
  EXPECT_EQ(int64_t(edges.size()), std::max<int64_t>(n - 1, 0));
  std::vector<int64_t> component(n);
  for (int64_t v = 0; v < n; ++v) component[v] = v;
  double weight = 0;
  for (auto [i, j] : edges) {
    EXPECT_TRUE(0 <= i && i < j && j < n) << i << ", " << j;
    EXPECT_NE(w[i * n + j], kAbsent);
    EXPECT_NE(component[i], component[j]) << "edge (" << i << ", " << j << ") closes a cycle";
    int64_t merged = component[j];
    for (int64_t& c : component)
      if (c == merged) c = component[i];
    weight += w[i * n + j];
  }
  return weight;
}

// The best weight over the spanning trees of K_n (all of them) whose edges are present; -inf if none.
double brute_force_max(const std::vector<std::vector<std::pair<int64_t, int64_t>>>& trees, const std::vector<double>& w,
                       int64_t n) {
  double best = kAbsent;
  for (const auto& tree : trees) {
    double weight = 0;
    for (auto [i, j] : tree) weight += w[i * n + j];
    best = std::max(best, weight);
  }
  return best;
}

// Prim's O(n^2) maximum spanning tree weight, as an independent check; -inf if disconnected.
double prim_max_weight(const std::vector<double>& w, int64_t n) {
  std::vector<bool> in_tree(n, false);
  std::vector<double> attach(n, kAbsent);
  attach[0] = 0;
  double weight = 0;
  for (int64_t step = 0; step < n; ++step) {
    int64_t next = -1;
    for (int64_t v = 0; v < n; ++v)
      if (!in_tree[v] && (next == -1 || attach[v] > attach[next])) next = v;
    if (attach[next] == kAbsent) return kAbsent;
    in_tree[next] = true;
    weight += attach[next];
    for (int64_t v = 0; v < n; ++v)
      if (!in_tree[v]) attach[v] = std::max(attach[v], w[std::min(next, v) * n + std::max(next, v)]);
  }
  return weight;
}

TEST(Kruskal, MatchesBruteForceOnRandomGraphs) {
  std::mt19937_64 rng(7);
  int disconnected = 0;
  for (int64_t n = 2; n <= 6; ++n) {
    const auto trees = spanning_trees(n);
    for (int trial = 0; trial < 150; ++trial) {
      const bool integer = trial % 2 == 1;
      const double p_absent = (trial % 5) * 0.15;
      auto w = random_graph(n, p_absent, integer, rng);
      auto result = max_spanning_tree(w.data(), n);
      double best = brute_force_max(trees, w, n);
      if (best == kAbsent) {
        ++disconnected;
        EXPECT_EQ(result.status, SpanningTreeStatus::kDisconnected);
        EXPECT_LT(int64_t(result.edges.size()), n - 1);
        continue;
      }
      ASSERT_EQ(result.status, SpanningTreeStatus::kOptimal) << "n " << n << " trial " << trial;
      double weight = tree_weight(result.edges, w, n);
      EXPECT_NEAR(weight, best, 1e-9) << "n " << n << " trial " << trial;
      EXPECT_NEAR(result.weight, weight, 1e-12);
      // The trace: edges in the order added have non-increasing weights.
      for (size_t k = 1; k < result.edges.size(); ++k) {
        auto [a, b] = result.edges[k - 1];
        auto [c, d] = result.edges[k];
        EXPECT_GE(w[a * n + b], w[c * n + d]);
      }
      // Same input, same tree, ties included.
      EXPECT_EQ(max_spanning_tree(w.data(), n).edges, result.edges);
    }
  }
  EXPECT_GT(disconnected, 20);
}

TEST(Kruskal, TiesGoToTheSmallestEdge) {
  const int64_t n = 5;
  std::vector<double> w(n * n, 1.0);
  auto result = max_spanning_tree(w.data(), n);
  std::vector<std::pair<int64_t, int64_t>> star = {{0, 1}, {0, 2}, {0, 3}, {0, 4}};
  EXPECT_EQ(result.edges, star);
}

TEST(Kruskal, ReadsOnlyTheUpperTriangle) {
  const int64_t n = 3;
  const double nan = std::nan("");
  std::vector<double> w = {nan, 1.0, 3.0,
                           nan, nan, 2.0,
                           nan, nan, nan};
  auto result = max_spanning_tree(w.data(), n);
  std::vector<std::pair<int64_t, int64_t>> expected = {{0, 2}, {1, 2}};
  EXPECT_EQ(result.status, SpanningTreeStatus::kOptimal);
  EXPECT_EQ(result.edges, expected);
  EXPECT_EQ(result.weight, 5.0);
}

TEST(Kruskal, DisconnectedGivesAMaximumSpanningForest) {
  // Components {0, 1, 2} and {3, 4}.
  const int64_t n = 5;
  std::vector<double> w(n * n, kAbsent);
  auto set = [&](int64_t i, int64_t j, double x) { w[i * n + j] = w[j * n + i] = x; };
  set(0, 1, 1.0);
  set(1, 2, 2.0);
  set(0, 2, 3.0);
  set(3, 4, -1.0);
  auto result = max_spanning_tree(w.data(), n);
  std::vector<std::pair<int64_t, int64_t>> forest = {{0, 2}, {1, 2}, {3, 4}};
  EXPECT_EQ(result.status, SpanningTreeStatus::kDisconnected);
  EXPECT_EQ(result.edges, forest);
  EXPECT_EQ(result.weight, 4.0);

  std::vector<double> no_edges(n * n, kAbsent);
  result = max_spanning_tree(no_edges.data(), n);
  EXPECT_EQ(result.status, SpanningTreeStatus::kDisconnected);
  EXPECT_TRUE(result.edges.empty());
}

TEST(Kruskal, TrivialSizes) {
  double one = std::nan("");
  auto result = max_spanning_tree(&one, 1);
  EXPECT_EQ(result.status, SpanningTreeStatus::kOptimal);
  EXPECT_TRUE(result.edges.empty());
  EXPECT_EQ(result.weight, 0.0);
  result = max_spanning_tree(nullptr, 0);
  EXPECT_EQ(result.status, SpanningTreeStatus::kOptimal);
  EXPECT_TRUE(result.edges.empty());
  EXPECT_THROW(max_spanning_tree(nullptr, -1), std::invalid_argument);
}

TEST(Kruskal, RejectsNaN) {
  std::vector<double> w = {0, std::nan(""), 0, 0};
  EXPECT_THROW(max_spanning_tree(w.data(), 2), std::invalid_argument);
}

TEST(Kruskal, AgreesWithPrimOnALargeGraph) {
  std::mt19937_64 rng(11);
  const int64_t n = 60;
  for (double p_absent : {0.0, 0.5, 0.9}) {
    auto w = random_graph(n, p_absent, /*integer=*/false, rng);
    auto result = max_spanning_tree(w.data(), n);
    double prim = prim_max_weight(w, n);
    if (prim == kAbsent) {
      EXPECT_EQ(result.status, SpanningTreeStatus::kDisconnected);
      continue;
    }
    ASSERT_EQ(result.status, SpanningTreeStatus::kOptimal) << "p_absent " << p_absent;
    EXPECT_NEAR(tree_weight(result.edges, w, n), prim, 1e-9);
  }
}

}  // namespace
}  // namespace structgrad::solvers
