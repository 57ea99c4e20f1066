#include "structgrad/solvers/arborescence.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace structgrad::solvers {
namespace {

constexpr double kAbsent = -std::numeric_limits<double>::infinity();

// Whether every vertex is reachable from root through present edges.
bool all_reachable(const std::vector<double>& w, int64_t n, int64_t root) {
  std::vector<bool> seen(n, false);
  std::vector<int64_t> stack = {root};
  seen[root] = true;
  int64_t count = 1;
  while (!stack.empty()) {
    int64_t u = stack.back();
    stack.pop_back();
    for (int64_t v = 0; v < n; ++v)
      if (!seen[v] && w[u * n + v] != kAbsent) {
        seen[v] = true;
        ++count;
        stack.push_back(v);
      }
  }
  return count == n;
}

// For each non-root node its best incoming edge's source, the smallest source among ties.
std::vector<int64_t> best_parents(const std::vector<double>& w, int64_t m, int64_t root) {
  std::vector<int64_t> best(m, -1);
  for (int64_t v = 0; v < m; ++v) {
    if (v == root) continue;
    double best_weight = kAbsent;
    for (int64_t u = 0; u < m; ++u)
      if (w[u * m + v] > best_weight) {
        best_weight = w[u * m + v];
        best[v] = u;
      }
  }
  return best;
}

// Every cycle of the graph v -> best[v] (root has best -1, so it is on none), as cycle[v]: the
// index of v's cycle, or -1. Returns the number of cycles.
int64_t find_cycles(const std::vector<int64_t>& best, std::vector<int64_t>& cycle) {
  const int64_t m = int64_t(best.size());
  enum : char { kUnseen, kOnPath, kDone };
  std::vector<char> state(m, kUnseen);
  cycle.assign(m, -1);
  int64_t count = 0;
  std::vector<int64_t> path;
  for (int64_t start = 0; start < m; ++start) {
    int64_t v = start;
    while (v != -1 && state[v] == kUnseen) {
      state[v] = kOnPath;
      path.push_back(v);
      v = best[v];
    }
    if (v != -1 && state[v] == kOnPath) {
      for (int64_t u = v; cycle[u] == -1; u = best[u]) cycle[u] = count;
      ++count;
    }
    for (int64_t u : path) state[u] = kDone;
    path.clear();
  }
  return count;
}

// One level of the contraction: the graph on m nodes (each a set of original vertices) whose
// best incoming edges have cycles, and what it takes to expand the next level's solution.
// Edges are named by their original edge, u * n + v, so expansion needs no per-edge tables.
struct Level {
  std::vector<int64_t> node_of;    // original vertex -> node at this level
  std::vector<int64_t> cycle;      // node -> its cycle's index, or -1
  std::vector<int64_t> best_edge;  // node -> original edge of its best incoming edge (-1: root)
  std::vector<int64_t> new_id;     // node -> node at the next level
};

}  // namespace

ArborescenceResult max_arborescence(const double* w, int64_t n, int64_t root) {
  if (n < 1) throw std::invalid_argument("max_arborescence: need n >= 1, got " + std::to_string(n));
  if (root < 0 || root >= n)
    throw std::invalid_argument("max_arborescence: need 0 <= root < n, got root " + std::to_string(root) +
                                " with n " + std::to_string(n));
  std::vector<double> level(w, w + n * n);
  for (int64_t u = 0; u < n; ++u)
    for (int64_t v = 0; v < n; ++v) {
      double& x = level[u * n + v];
      if (u == v) x = kAbsent;
      else if (std::isnan(x) || x == std::numeric_limits<double>::infinity())
        throw std::invalid_argument("max_arborescence: weights must be finite or -inf, got " + std::to_string(x) +
                                    " at (" + std::to_string(u) + ", " + std::to_string(v) + ")");
    }

  ArborescenceResult result;
  if (!all_reachable(level, n, root)) return result;

  // Contract every cycle of best incoming edges at once, until they are acyclic. Contraction
  // keeps every node reachable, so every non-root node of every level has a finite best edge.
  std::vector<int64_t> origin(n * n), node_of(n);
  std::iota(origin.begin(), origin.end(), 0);
  std::iota(node_of.begin(), node_of.end(), 0);
  std::vector<Level> levels;
  int64_t m = n, level_root = root;
  std::vector<int64_t> best = best_parents(level, m, level_root), cycle;
  for (int64_t cycles = find_cycles(best, cycle); cycles > 0; cycles = find_cycles(best, cycle)) {
    Level& l = levels.emplace_back();
    l.node_of = node_of;
    l.cycle = cycle;
    l.best_edge.assign(m, -1);
    for (int64_t v = 0; v < m; ++v)
      if (v != level_root) l.best_edge[v] = origin[best[v] * m + v];
    // Nodes off the cycles keep their order; each cycle becomes one node after them.
    l.new_id.assign(m, -1);
    int64_t next = 0;
    for (int64_t v = 0; v < m; ++v)
      if (cycle[v] == -1) l.new_id[v] = next++;
    for (int64_t v = 0; v < m; ++v)
      if (cycle[v] != -1) l.new_id[v] = next + cycle[v];
    const int64_t contracted = next + cycles;

    // An edge into a cycle node v costs v's cycle edge: w'(u, C) = w(u, v) - w(best(v), v). Among
    // the parallel edges between two new nodes keep the heaviest, the first in (u, v) order on ties.
    std::vector<double> new_level(contracted * contracted, kAbsent);
    std::vector<int64_t> new_origin(contracted * contracted, -1);
    for (int64_t u = 0; u < m; ++u)
      for (int64_t v = 0; v < m; ++v) {
        const int64_t a = l.new_id[u], b = l.new_id[v];
        if (a == b || level[u * m + v] == kAbsent) continue;
        double weight = level[u * m + v] - (cycle[v] == -1 ? 0.0 : level[best[v] * m + v]);
        if (weight > new_level[a * contracted + b]) {
          new_level[a * contracted + b] = weight;
          new_origin[a * contracted + b] = origin[u * m + v];
        }
      }
    for (int64_t& node : node_of) node = l.new_id[node];
    level = std::move(new_level);
    origin = std::move(new_origin);
    level_root = l.new_id[level_root];
    m = contracted;
    best = best_parents(level, m, level_root);
  }

  // chosen[node]: the original edge into node. At the top level, the best edges; going down, a
  // cycle's incoming edge goes to the member node holding its head, the other members keep
  // their cycle edges.
  std::vector<int64_t> chosen(m, -1);
  for (int64_t v = 0; v < m; ++v)
    if (v != level_root) chosen[v] = origin[best[v] * m + v];
  for (auto l = levels.rbegin(); l != levels.rend(); ++l) {
    std::vector<int64_t> below(l->new_id.size(), -1);
    for (size_t v = 0; v < below.size(); ++v) {
      int64_t edge = chosen[l->new_id[v]];
      if (l->cycle[v] == -1) below[v] = edge;
      else below[v] = l->node_of[edge % n] == int64_t(v) ? edge : l->best_edge[v];
    }
    chosen = std::move(below);
  }

  result.parent.assign(n, -1);
  for (int64_t v = 0; v < n; ++v)
    if (v != root) result.parent[v] = chosen[v] / n;
  result.status = ArborescenceStatus::kOptimal;
  for (int64_t v = 0; v < n; ++v)
    if (v != root) result.weight += w[result.parent[v] * n + v];
  return result;
}

}  // namespace structgrad::solvers
