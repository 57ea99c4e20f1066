// Brute-force enumerators of small combinatorial sets, for tests and exact estimators.
// Plain C++: no torch. Sizes grow combinatorially; callers bound n.
//
//   for (const auto& subset : structgrad::solvers::k_subsets(5, 2)) ...   // 10 subsets
//   for (const auto& tree : structgrad::solvers::spanning_trees(4)) ...   // 16 trees
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace structgrad::solvers {

// Every k-subset of {0, ..., n-1} as sorted indices, in lexicographic order.
std::vector<std::vector<int64_t>> k_subsets(int64_t n, int64_t k);

// Every permutation of {0, ..., n-1}, in lexicographic order.
std::vector<std::vector<int64_t>> permutations(int64_t n);

// Every spanning tree of the complete graph K_n, n >= 1: n^(n-2) trees (Cayley), each as its
// n - 1 edges (i, j), i < j, sorted; trees in lexicographic order of their Pruefer sequences.
// O(n^(n-2) * n^2); n <= 8 stays below a second.
std::vector<std::vector<std::pair<int64_t, int64_t>>> spanning_trees(int64_t n);

// Every spanning arborescence of the complete digraph on n >= 1 vertices rooted at `root`, as a
// parent array (parent[root] = -1, every other vertex reaches root by following parents):
// n^(n-2) of them, in lexicographic order of the parent arrays. O(n^(n-1) * n^2); n <= 7.
std::vector<std::vector<int64_t>> arborescences(int64_t n, int64_t root = 0);

}  // namespace structgrad::solvers
