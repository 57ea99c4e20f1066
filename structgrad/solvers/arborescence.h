// Maximum-weight spanning arborescence (Chu-Liu-Edmonds / Edmonds' algorithm), plain C++.
//
// Problem: given a directed graph on n vertices as a dense weight matrix w (row-major,
// w[i * n + j] = weight of the edge i -> j, -inf = no edge, diagonal ignored) and a root r, find
// the parent array p (p[r] = -1, every other vertex v has exactly one parent p[v], and following
// parents from any vertex leads to r) that maximizes sum_{v != r} w[p[v] * n + v].
//
// The minimum-weight arborescence is the maximum on the negated matrix: pass -w, with absent edges
// +inf in w and so -inf in -w.
//
// Algorithm: every non-root vertex picks its best incoming edge; the cycles these form are
// contracted, each into one node, with the edges entering a cycle reweighted
// w'(u, C) = w(u, v) - w(p(v), v) (the loss of swapping v's cycle edge for u -> v); repeat until
// the best edges are acyclic, then expand: the edge entering a cycle replaces the cycle edge of the
// vertex it enters. Edges keep their original names through the contractions, so expansion is
// O(n) per level. Dense form: O(n^2) per round of contractions, O(n^3) worst case (and typical on
// dense random weights: one node tends to absorb one vertex per round; n = 100 takes under a
// millisecond, n = 1000 about 2 s), O(n^2) memory.
//
// Ties are broken deterministically: a vertex's best incoming edge is the one with the smallest
// source among equals (in the numbering of the current level: uncontracted nodes in their order,
// then the new cycle nodes), and among parallel edges into a contracted node the first in
// (source, target) order is kept, so the same input always gives the same arborescence. Sums are
// floating point: solutions whose weights differ by rounding only count as ties.
//
// Usage:
//   std::vector<double> w(n * n);   // w[i * n + j]: weight of i -> j
//   auto result = structgrad::solvers::max_arborescence(w.data(), n, /*root=*/0);
//   if (result.status == structgrad::solvers::ArborescenceStatus::kOptimal)
//     for (int64_t v = 1; v < n; ++v) use(result.parent[v], v);   // edge parent[v] -> v
#pragma once

#include <cstdint>
#include <vector>

namespace structgrad::solvers {

enum class ArborescenceStatus {
  kOptimal,          // parent is a maximum-weight arborescence
  kNoArborescence,   // some vertex is unreachable from the root through present edges
};

struct ArborescenceResult {
  ArborescenceStatus status = ArborescenceStatus::kNoArborescence;
  // n entries, parent[root] = -1, when status is kOptimal; empty otherwise.
  std::vector<int64_t> parent;
  // sum_{v != root} w[parent[v] * n + v]; 0 unless kOptimal.
  double weight = 0;
};

// Maximum-weight spanning arborescence of the n x n matrix w rooted at root. Needs n >= 1,
// 0 <= root < n, and off-diagonal weights finite or -inf (NaN or +inf throw
// std::invalid_argument).
ArborescenceResult max_arborescence(const double* w, int64_t n, int64_t root = 0);

}  // namespace structgrad::solvers
