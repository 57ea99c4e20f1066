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
// Algorithm: Edmonds' contraction in Tarjan's dense O(n^2) form. From each vertex not yet
// attached, a path grows backwards along best incoming edges until it reaches a node already
// attached to the root (its edges are then final at this level) or closes a cycle. A cycle is
// contracted into one node, with the edges entering it reweighted w'(u, C) = w(u, v) - w(p(v), v)
// (the loss of swapping v's cycle edge for u -> v), and the path goes on from that node. Every
// node keeps a dense row of incoming weights indexed by source vertex, so choosing an edge is
// O(n) and contracting a cycle of k nodes O(nk): O(n^2) time and memory in all. Expansion runs
// outermost cycle first: the edge entering a cycle goes to the member holding its head, the
// other members keep their cycle edges. Measured (bench/arborescence_bench.cpp): 5 to 8 times
// one scan of the matrix from n = 30 to 1000, 4 ms at n = 1000; the earlier O(n^3) form, which
// contracted every cycle of the whole graph per round, was 17 times slower there.
//
// Ties are broken deterministically: a node's best incoming edge is the one with the smallest
// source vertex among equals, and among the edges from one source into a contracted cycle the
// one into the first member (in the order the path met them) is kept, so the same input always
// gives the same arborescence. Sums are floating point: solutions whose weights differ by
// rounding only count as ties.
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
