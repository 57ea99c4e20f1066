// Brute-force enumerators of small combinatorial sets, for tests and exact estimators.
// Plain C++: no torch. Sizes grow combinatorially; callers bound n.
//
//   for (const auto& subset : structgrad::solvers::k_subsets(5, 2)) ...   // 10 subsets
#pragma once

#include <cstdint>
#include <vector>

namespace structgrad::solvers {

// Every k-subset of {0, ..., n-1} as sorted indices, in lexicographic order.
std::vector<std::vector<int64_t>> k_subsets(int64_t n, int64_t k);

// Every permutation of {0, ..., n-1}, in lexicographic order.
std::vector<std::vector<int64_t>> permutations(int64_t n);

}  // namespace structgrad::solvers
