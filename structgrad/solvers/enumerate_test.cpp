#include "structgrad/solvers/enumerate.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace structgrad::solvers
