// Maximum spanning tree (Kruskal's algorithm), plain C++.
//
// Problem: given an undirected graph on n vertices as a dense symmetric weight matrix w
// (row-major, w[i * n + j] = weight of the edge {i, j}, -inf = no edge; only the upper triangle
// i < j is read), find the spanning tree maximizing the sum of its edge weights.
//
// Algorithm: sort the present edges by decreasing weight, then add each edge that joins two
// different components (union-find with path compression and union by rank). O(m log m) for the
// m present edges, O(n^2) memory for the dense input. The minimum spanning tree is the maximum
// on -w.
//
// The edges come back in the order they were added, which is the trace of the recursive
// Gumbel-Max trick for spanning trees: each edge is the heaviest remaining one that closes no
// cycle. Ties are broken deterministically: among equal weights the lexicographically smallest
// (i, j) comes first.
//
// Usage:
//   std::vector<double> w(n * n);   // w[i * n + j] == w[j * n + i]: weight of {i, j}
//   auto result = structgrad::solvers::max_spanning_tree(w.data(), n);
//   if (result.status == structgrad::solvers::SpanningTreeStatus::kOptimal)
//     for (auto [i, j] : result.edges) use(i, j);   // i < j, in the order added
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace structgrad::solvers {

enum class SpanningTreeStatus {
  kOptimal,       // edges is a maximum spanning tree (n - 1 edges)
  kDisconnected,  // no spanning tree: edges is a maximum spanning forest (n - #components edges)
};

struct SpanningTreeResult {
  SpanningTreeStatus status = SpanningTreeStatus::kOptimal;
  // Edges (i, j), i < j, in the order Kruskal added them (non-increasing weight).
  std::vector<std::pair<int64_t, int64_t>> edges;
  // Sum of the edges' weights.
  double weight = 0;
};

// Maximum spanning tree of the n x n matrix w (n >= 0; n <= 1 gives the empty tree). A NaN
// weight in the upper triangle throws std::invalid_argument; +inf is an ordinary (heaviest)
// weight.
SpanningTreeResult max_spanning_tree(const double* w, int64_t n);

}  // namespace structgrad::solvers
