#include "structgrad/solvers/arborescence.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "structgrad/solvers/enumerate.h"
#include "structgrad/testing/random_weights.h"

namespace structgrad::solvers {
namespace {

using testing::kAbsent;

std::vector<double> random_digraph(int64_t n, double p_absent, bool integer, std::mt19937_64& rng) {
  return testing::random_weights(n, p_absent, integer, /*symmetric=*/false, rng);
}

// Weight of a parent array over w, -inf if it uses an absent edge.
double arborescence_weight(const std::vector<int64_t>& parent, const std::vector<double>& w, int64_t n,
                           int64_t root) {
  double weight = 0;
  for (int64_t v = 0; v < n; ++v)
    if (v != root) weight += w[parent[v] * n + v];
  return weight;
}

// Checks that parent is a spanning arborescence of w's present edges rooted at root.
void expect_arborescence(const std::vector<int64_t>& parent, const std::vector<double>& w, int64_t n,
                         int64_t root) {
  ASSERT_EQ(int64_t(parent.size()), n);
  EXPECT_EQ(parent[root], -1);
  for (int64_t v = 0; v < n; ++v) {
    if (v == root) continue;
    ASSERT_TRUE(0 <= parent[v] && parent[v] < n && parent[v] != v) << "parent[" << v << "] = " << parent[v];
    EXPECT_NE(w[parent[v] * n + v], kAbsent) << "absent edge " << parent[v] << " -> " << v;
    int64_t u = v;
    for (int64_t steps = 0; u != root && steps < n; ++steps) u = parent[u];
    EXPECT_EQ(u, root) << "vertex " << v << " does not reach the root";
  }
}

// The best weight over every arborescence of the complete digraph rooted at root; -inf if none
// uses present edges only.
double brute_force_max_arborescence(const std::vector<double>& w, int64_t n, int64_t root) {
  double best = kAbsent;
  for (const auto& parent : arborescences(n, root)) best = std::max(best, arborescence_weight(parent, w, n, root));
  return best;
}

TEST(Arborescence, MatchesBruteForceOnRandomGraphs) {
  std::mt19937_64 rng(3);
  int unreachable = 0;
  for (int64_t n = 2; n <= 6; ++n) {
    // One enumeration per (n, root), reused across instances.
    std::vector<std::vector<std::vector<int64_t>>> all(n);
    for (int64_t root = 0; root < n; ++root) all[root] = arborescences(n, root);
    for (int trial = 0; trial < 200; ++trial) {
      const int64_t root = trial % n;
      const bool integer = trial % 2 == 1;
      const double p_absent = (trial % 5) * 0.15;
      auto w = random_digraph(n, p_absent, integer, rng);
      auto result = max_arborescence(w.data(), n, root);
      double best = kAbsent;
      for (const auto& parent : all[root]) best = std::max(best, arborescence_weight(parent, w, n, root));
      if (best == kAbsent) {
        ++unreachable;
        EXPECT_EQ(result.status, ArborescenceStatus::kNoArborescence) << "n " << n << " trial " << trial;
        EXPECT_TRUE(result.parent.empty());
        continue;
      }
      ASSERT_EQ(result.status, ArborescenceStatus::kOptimal) << "n " << n << " trial " << trial;
      expect_arborescence(result.parent, w, n, root);
      double weight = arborescence_weight(result.parent, w, n, root);
      EXPECT_NEAR(weight, best, 1e-9) << "n " << n << " trial " << trial;
      EXPECT_NEAR(result.weight, weight, 1e-12);
      EXPECT_EQ(max_arborescence(w.data(), n, root).parent, result.parent);
    }
  }
  EXPECT_GT(unreachable, 20);
}

TEST(Arborescence, MatchesBruteForceOnSevenVertices) {
  std::mt19937_64 rng(5);
  const int64_t n = 7;
  for (int trial = 0; trial < 4; ++trial) {
    const int64_t root = trial;
    auto w = random_digraph(n, 0.2, /*integer=*/trial % 2 == 1, rng);
    auto result = max_arborescence(w.data(), n, root);
    double best = brute_force_max_arborescence(w, n, root);
    ASSERT_EQ(result.status, ArborescenceStatus::kOptimal);
    expect_arborescence(result.parent, w, n, root);
    EXPECT_NEAR(result.weight, best, 1e-9);
  }
}

// The best incoming edges form the cycle 1 -> 2 -> 3 -> 1; the edge from the root must break it
// where it loses least, not where it is heaviest (0 -> 2 loses 10 - 8, 0 -> 3 loses 7, 0 -> 1 loses 9).
TEST(Arborescence, BreaksTheCycleWhereTheEnteringEdgeGainsMost) {
  const int64_t n = 4;
  std::vector<double> w(n * n, kAbsent);
  auto set = [&](int64_t i, int64_t j, double x) { w[i * n + j] = x; };
  set(1, 2, 10);
  set(2, 3, 10);
  set(3, 1, 10);
  set(0, 1, 1);
  set(0, 2, 8);
  set(0, 3, 3);
  auto result = max_arborescence(w.data(), n);
  std::vector<int64_t> expected = {-1, 3, 0, 2};
  EXPECT_EQ(result.status, ArborescenceStatus::kOptimal);
  EXPECT_EQ(result.parent, expected);
  EXPECT_EQ(result.weight, 28.0);
}

TEST(Arborescence, NestedCycles) {
  // Best in-edges: 1 <-> 2 (a 2-cycle), 3 <-> 4; after contraction the two cycles point at each
  // other, forming a cycle of contracted vertices, contracted in turn.
  const int64_t n = 5;
  std::vector<double> w(n * n, kAbsent);
  auto set = [&](int64_t i, int64_t j, double x) { w[i * n + j] = x; };
  set(1, 2, 10);
  set(2, 1, 10);
  set(3, 4, 10);
  set(4, 3, 10);
  set(2, 3, 9);
  set(4, 1, 9);
  set(0, 1, 1);
  set(0, 3, 0);
  auto result = max_arborescence(w.data(), n);
  double best = brute_force_max_arborescence(w, n, 0);
  ASSERT_EQ(result.status, ArborescenceStatus::kOptimal);
  expect_arborescence(result.parent, w, n, 0);
  EXPECT_EQ(result.weight, best);
  std::vector<int64_t> expected = {-1, 0, 1, 2, 3};
  EXPECT_EQ(result.parent, expected);
}

TEST(Arborescence, EqualWeightsStillGiveAnArborescence) {
  const int64_t n = 5;
  std::vector<double> w(n * n, 0.0);
  for (int64_t root = 0; root < n; ++root) {
    auto result = max_arborescence(w.data(), n, root);
    ASSERT_EQ(result.status, ArborescenceStatus::kOptimal);
    expect_arborescence(result.parent, w, n, root);
  }
  // The smallest source wins ties: the star at root 0.
  EXPECT_EQ(max_arborescence(w.data(), n).parent, (std::vector<int64_t>{-1, 0, 0, 0, 0}));
}

TEST(Arborescence, UnreachableVertex) {
  // 3 has no incoming edge at all; 2 only from 3.
  const int64_t n = 4;
  std::vector<double> w(n * n, kAbsent);
  w[0 * n + 1] = 1;
  w[3 * n + 2] = 1;
  EXPECT_EQ(max_arborescence(w.data(), n).status, ArborescenceStatus::kNoArborescence);
  // Rooted at 3, vertex 2 is reachable but 0 and 1 are not.
  EXPECT_EQ(max_arborescence(w.data(), n, 3).status, ArborescenceStatus::kNoArborescence);
  w[1 * n + 3] = 1;
  auto result = max_arborescence(w.data(), n);
  EXPECT_EQ(result.status, ArborescenceStatus::kOptimal);
  EXPECT_EQ(result.parent, (std::vector<int64_t>{-1, 0, 3, 1}));
}

TEST(Arborescence, SingleVertexAndBadArguments) {
  double one = std::nan("");
  auto result = max_arborescence(&one, 1);
  EXPECT_EQ(result.status, ArborescenceStatus::kOptimal);
  EXPECT_EQ(result.parent, std::vector<int64_t>{-1});
  EXPECT_EQ(result.weight, 0.0);
  std::vector<double> w = {0, 1, 1, 0};
  EXPECT_THROW(max_arborescence(w.data(), 0), std::invalid_argument);
  EXPECT_THROW(max_arborescence(w.data(), 2, 2), std::invalid_argument);
  EXPECT_THROW(max_arborescence(w.data(), 2, -1), std::invalid_argument);
  w[1] = std::nan("");
  EXPECT_THROW(max_arborescence(w.data(), 2), std::invalid_argument);
  w[1] = std::numeric_limits<double>::infinity();
  EXPECT_THROW(max_arborescence(w.data(), 2), std::invalid_argument);
}

// Local search over single parent changes that keep an arborescence, from a start arborescence:
// a lower bound on the optimum found by a different method.
double local_search(std::vector<int64_t> parent, const std::vector<double>& w, int64_t n, int64_t root) {
  auto is_ancestor = [&](int64_t a, int64_t v) {  // a is on v's path to the root
    for (int64_t u = v; u != -1; u = parent[u])
      if (u == a) return true;
    return false;
  };
  for (bool improved = true; improved;) {
    improved = false;
    for (int64_t v = 0; v < n; ++v) {
      if (v == root) continue;
      for (int64_t u = 0; u < n; ++u)
        if (u != v && w[u * n + v] > w[parent[v] * n + v] && !is_ancestor(v, u)) {
          parent[v] = u;
          improved = true;
        }
    }
  }
  return arborescence_weight(parent, w, n, root);
}

TEST(Arborescence, LargeGraphIsOptimalUnderChecksThatNeedNoEnumeration) {
  std::mt19937_64 rng(13);
  const int64_t n = 60, root = 4;
  auto w = random_digraph(n, 0.3, /*integer=*/false, rng);
  auto result = max_arborescence(w.data(), n, root);
  ASSERT_EQ(result.status, ArborescenceStatus::kOptimal);
  expect_arborescence(result.parent, w, n, root);

  // Upper bound: every vertex's best incoming edge. Lower bounds: local search from random
  // arborescences (each vertex attached to an earlier one in a random order) and from the solution.
  double upper = 0;
  for (int64_t v = 0; v < n; ++v) {
    if (v == root) continue;
    double best = kAbsent;
    for (int64_t u = 0; u < n; ++u)
      if (u != v) best = std::max(best, w[u * n + v]);
    upper += best;
  }
  EXPECT_LE(result.weight, upper + 1e-9);
  EXPECT_NEAR(local_search(result.parent, w, n, root), result.weight, 1e-9);
  std::vector<double> full = w;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (i != j && full[i * n + j] == kAbsent) full[i * n + j] = -1e3;  // so that any start is feasible
  for (int start = 0; start < 5; ++start) {
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::swap(order[0], order[root]);
    std::shuffle(order.begin() + 1, order.end(), rng);
    std::vector<int64_t> parent(n, -1);
    for (int64_t k = 1; k < n; ++k) parent[order[k]] = order[std::uniform_int_distribution<int64_t>(0, k - 1)(rng)];
    EXPECT_LE(local_search(parent, full, n, root), result.weight + 1e-9);
  }

  // Relabeling the vertices relabels the solution; adding a constant to all edges into a vertex
  // leaves it unchanged (continuous weights: no ties).
  std::vector<int64_t> relabel(n);
  std::iota(relabel.begin(), relabel.end(), 0);
  std::shuffle(relabel.begin(), relabel.end(), rng);
  std::vector<double> permuted(n * n), shifted = w;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) permuted[relabel[i] * n + relabel[j]] = w[i * n + j];
  std::normal_distribution<double> normal(0, 5);
  for (int64_t j = 0; j < n; ++j) {
    double shift = normal(rng);
    for (int64_t i = 0; i < n; ++i) shifted[i * n + j] += shift;
  }
  auto permuted_result = max_arborescence(permuted.data(), n, relabel[root]);
  ASSERT_EQ(permuted_result.status, ArborescenceStatus::kOptimal);
  for (int64_t v = 0; v < n; ++v) {
    if (v == root) continue;
    EXPECT_EQ(permuted_result.parent[relabel[v]], relabel[result.parent[v]]);
  }
  EXPECT_EQ(max_arborescence(shifted.data(), n, root).parent, result.parent);
}

}  // namespace
}  // namespace structgrad::solvers
