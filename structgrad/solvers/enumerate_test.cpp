#include "structgrad/solvers/enumerate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace structgrad::solvers {
namespace {

TEST(Enumerate, KSubsetsAreAllDistinctAndSorted) {
  for (int64_t n = 0; n <= 7; ++n)
    for (int64_t k = 0; k <= n; ++k) {
      auto subsets = k_subsets(n, k);
      std::set<std::vector<int64_t>> distinct(subsets.begin(), subsets.end());
      int64_t binomial = 1;
      for (int64_t i = 0; i < k; ++i) binomial = binomial * (n - i) / (i + 1);
      EXPECT_EQ(int64_t(distinct.size()), binomial);
      EXPECT_EQ(subsets.size(), distinct.size());
      for (const auto& s : subsets) EXPECT_TRUE(std::is_sorted(s.begin(), s.end()) && (s.empty() || s.back() < n));
    }
  EXPECT_THROW(k_subsets(3, 4), std::invalid_argument);
}

TEST(Enumerate, PermutationsCountIsFactorial) {
  EXPECT_EQ(permutations(0).size(), 1u);
  EXPECT_EQ(permutations(5).size(), 120u);
  auto perms = permutations(4);
  EXPECT_EQ(std::set<std::vector<int64_t>>(perms.begin(), perms.end()).size(), 24u);
}

// n^(n-2), with 1 for n = 1.
size_t cayley(int64_t n) { return n == 1 ? 1 : size_t(std::llround(std::pow(double(n), double(n - 2)))); }

TEST(Enumerate, SpanningTreesCountIsCayleysAndEachIsATree) {
  for (int64_t n = 1; n <= 7; ++n) {
    auto trees = spanning_trees(n);
    EXPECT_EQ(trees.size(), cayley(n)) << "n " << n;
    using Tree = std::vector<std::pair<int64_t, int64_t>>;
    EXPECT_EQ(std::set<Tree>(trees.begin(), trees.end()).size(), trees.size());
    for (const auto& tree : trees) {
      ASSERT_EQ(int64_t(tree.size()), n - 1);
      EXPECT_TRUE(std::is_sorted(tree.begin(), tree.end()));
      // n - 1 edges joining n - 1 pairs of distinct components: a spanning tree.
      std::vector<int64_t> component(n);
      for (int64_t v = 0; v < n; ++v) component[v] = v;
      for (auto [i, j] : tree) {
        ASSERT_TRUE(0 <= i && i < j && j < n);
        ASSERT_NE(component[i], component[j]);
        int64_t merged = component[j];
        for (int64_t& c : component)
          if (c == merged) c = component[i];
      }
    }
  }
  EXPECT_THROW(spanning_trees(0), std::invalid_argument);
}

TEST(Enumerate, ArborescencesCountIsCayleysAndEachReachesTheRoot) {
  for (int64_t n = 1; n <= 6; ++n)
    for (int64_t root = 0; root < n; ++root) {
      auto all = arborescences(n, root);
      EXPECT_EQ(all.size(), cayley(n)) << "n " << n << " root " << root;
      EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
      EXPECT_EQ(std::set<std::vector<int64_t>>(all.begin(), all.end()).size(), all.size());
      for (const auto& parent : all) {
        ASSERT_EQ(int64_t(parent.size()), n);
        EXPECT_EQ(parent[root], -1);
        for (int64_t v = 0; v < n; ++v) {
          if (v == root) continue;
          ASSERT_TRUE(0 <= parent[v] && parent[v] < n && parent[v] != v);
          int64_t u = v;
          for (int64_t steps = 0; u != root && steps < n; ++steps) u = parent[u];
          EXPECT_EQ(u, root);
        }
      }
    }
  EXPECT_EQ(arborescences(7, 3).size(), cayley(7));
  EXPECT_THROW(arborescences(0, 0), std::invalid_argument);
  EXPECT_THROW(arborescences(3, 3), std::invalid_argument);
}

}  // namespace
}  // namespace structgrad::solvers
