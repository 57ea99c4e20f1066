#include "structgrad/solvers/kruskal.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

namespace structgrad::solvers {
namespace {

// Disjoint sets with path compression and union by rank: near-constant amortized operations.
class UnionFind {
 public:
  explicit UnionFind(int64_t n) : parent_(n), rank_(n, 0) { std::iota(parent_.begin(), parent_.end(), 0); }

  int64_t find(int64_t v) {
    int64_t root = v;
    while (parent_[root] != root) root = parent_[root];
    while (parent_[v] != root) v = std::exchange(parent_[v], root);
    return root;
  }

  // Merges the sets of a and b; false if they were already one.
  bool unite(int64_t a, int64_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return false;
    if (rank_[a] < rank_[b]) std::swap(a, b);
    parent_[b] = a;
    if (rank_[a] == rank_[b]) ++rank_[a];
    return true;
  }

 private:
  std::vector<int64_t> parent_;
  std::vector<int64_t> rank_;
};

struct WeightedEdge {
  double weight;
  int64_t i, j;
};

}  // namespace

SpanningTreeResult max_spanning_tree(const double* w, int64_t n) {
  if (n < 0) throw std::invalid_argument("max_spanning_tree: need n >= 0, got " + std::to_string(n));
  constexpr double kAbsent = -std::numeric_limits<double>::infinity();
  // Listed in lexicographic (i, j) order; the stable sort keeps that order among ties.
  std::vector<WeightedEdge> candidates;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      double x = w[i * n + j];
      if (std::isnan(x))
        throw std::invalid_argument("max_spanning_tree: weight is NaN at (" + std::to_string(i) + ", " +
                                    std::to_string(j) + ")");
      if (x != kAbsent) candidates.push_back({x, i, j});
    }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const WeightedEdge& a, const WeightedEdge& b) { return a.weight > b.weight; });

  SpanningTreeResult result;
  UnionFind components(n);
  for (const WeightedEdge& e : candidates) {
    if (int64_t(result.edges.size()) == n - 1) break;
    if (!components.unite(e.i, e.j)) continue;
    result.edges.emplace_back(e.i, e.j);
    result.weight += e.weight;
  }
  if (n > 0 && int64_t(result.edges.size()) < n - 1) result.status = SpanningTreeStatus::kDisconnected;
  return result;
}

}  // namespace structgrad::solvers
