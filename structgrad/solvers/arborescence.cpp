#include "structgrad/solvers/arborescence.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace structgrad::solvers {
namespace {

constexpr double kAbsent = -std::numeric_limits<double>::infinity();

// Whether every vertex is reachable from root through present edges; `incoming` holds row v's
// incoming weights, incoming[v * n + u] the edge u -> v.
bool all_reachable(const std::vector<double>& incoming, int64_t n, int64_t root) {
  std::vector<bool> seen(n, false);
  std::vector<int64_t> stack = {root};
  seen[root] = true;
  int64_t count = 1;
  while (!stack.empty()) {
    int64_t u = stack.back();
    stack.pop_back();
    for (int64_t v = 0; v < n; ++v)
      if (!seen[v] && incoming[v * n + u] != kAbsent) {
        seen[v] = true;
        ++count;
        stack.push_back(v);
      }
  }
  return count == n;
}

// The contraction state. Nodes 0..n-1 are the vertices, nodes n.. the contracted cycles, in
// the order contracted (at most n - 1 of them). Every live node owns one row of `weight` and
// `head`: for each source vertex u, the weight of the best edge from u into the node (reduced by
// the contractions inside it) and the vertex inside the node that edge enters. A contracted
// cycle takes over its first member's row.
struct Contraction {
  int64_t n;
  std::vector<double> weight;    // row * n + source vertex
  std::vector<int32_t> head;     // row * n + source vertex
  std::vector<int64_t> row;      // node -> its row
  std::vector<int64_t> node_of;  // vertex -> the live node containing it
  std::vector<int64_t> enter;    // node -> its chosen incoming edge (u * n + v, original vertices)
  std::vector<double> enter_weight;
  std::vector<int64_t> cycle_of;                // node -> the cycle node it was contracted into, or -1
  std::vector<std::vector<int64_t>> members;    // cycle node -> its members, in path order

  Contraction(const double* w, int64_t vertices) : n(vertices), weight(vertices * vertices), head(vertices * vertices) {
    for (int64_t v = 0; v < n; ++v)
      for (int64_t u = 0; u < n; ++u) {
        weight[v * n + u] = u == v ? kAbsent : w[u * n + v];
        head[v * n + u] = int32_t(v);
      }
    const int64_t nodes = 2 * n - 1;
    row.resize(nodes);
    for (int64_t v = 0; v < n; ++v) row[v] = v;
    node_of.resize(n);
    for (int64_t v = 0; v < n; ++v) node_of[v] = v;
    enter.assign(nodes, -1);
    enter_weight.assign(nodes, kAbsent);
    cycle_of.assign(nodes, -1);
    members.resize(nodes);
  }

  // The node's best incoming edge from outside it, the smallest source vertex among equals:
  // into enter / enter_weight. Returns the source vertex. One exists whenever every vertex is
  // reachable from the root and the node does not hold the root.
  int64_t choose_entering_edge(int64_t node) {
    const double* in = &weight[row[node] * n];
    int64_t best = -1;
    double best_weight = kAbsent;
    for (int64_t u = 0; u < n; ++u)
      if (in[u] > best_weight && node_of[u] != node) {
        best_weight = in[u];
        best = u;
      }
    enter[node] = best * n + head[row[node] * n + best];
    enter_weight[node] = best_weight;
    return best;
  }

  // Contracts `cycle` (live nodes whose entering edges form a cycle) into the new node `id`: an edge from u into member m costs m's cycle edge, w'(u, C) = w(u, m) - w(enter(m)),
  // and C keeps the best over its members, the first member among equals. O(n |cycle|).
  void contract(const std::vector<int64_t>& cycle, int64_t id) {
    const int64_t target = row[cycle.front()];
    for (int64_t u = 0; u < n; ++u) {
      double best = kAbsent;
      int32_t best_head = -1;
      for (int64_t m : cycle) {
        const double reduced = weight[row[m] * n + u] - enter_weight[m];
        if (reduced > best) {
          best = reduced;
          best_head = head[row[m] * n + u];
        }
      }
      weight[target * n + u] = best;
      head[target * n + u] = best_head < 0 ? 0 : best_head;  // absent: any head, never chosen
    }
    row[id] = target;
    for (int64_t m : cycle) cycle_of[m] = id;
    for (int64_t& node : node_of)
      if (cycle_of[node] == id) node = id;
    members[id] = cycle;
  }
};

}  // namespace

ArborescenceResult max_arborescence(const double* w, int64_t n, int64_t root) {
  if (n < 1) throw std::invalid_argument("max_arborescence: need n >= 1, got " + std::to_string(n));
  if (root < 0 || root >= n)
    throw std::invalid_argument("max_arborescence: need 0 <= root < n, got root " + std::to_string(root) +
                                " with n " + std::to_string(n));
  for (int64_t u = 0; u < n; ++u)
    for (int64_t v = 0; v < n; ++v) {
      const double x = w[u * n + v];
      if (u != v && (std::isnan(x) || x == std::numeric_limits<double>::infinity()))
        throw std::invalid_argument("max_arborescence: weights must be finite or -inf, got " + std::to_string(x) +
                                    " at (" + std::to_string(u) + ", " + std::to_string(v) + ")");
    }

  ArborescenceResult result;
  Contraction graph(w, n);
  if (!all_reachable(graph.weight, n, root)) return result;

  // Grow a path backwards along best incoming edges from each vertex not yet attached. The path
  // ends at a node already attached to the root (the path's edges are then final at this level
  // of contraction: contractions elsewhere only reweight edges into the contracted cycle), or
  // closes a cycle, which is contracted and continues the path as one node.
  enum : char { kFree, kOnPath, kAttached };
  std::vector<char> state(2 * n - 1, kFree);
  state[root] = kAttached;
  std::vector<int64_t> path;
  int64_t next_id = n;
  for (int64_t start = 0; start < n; ++start) {
    if (state[graph.node_of[start]] != kFree) continue;
    path.assign(1, graph.node_of[start]);
    state[path.back()] = kOnPath;
    while (!path.empty()) {
      const int64_t current = path.back();
      const int64_t from = graph.node_of[graph.choose_entering_edge(current)];
      if (state[from] == kAttached) {
        for (int64_t node : path) state[node] = kAttached;
        path.clear();
      } else if (state[from] == kFree) {
        path.push_back(from);
        state[from] = kOnPath;
      } else {
        const auto first = std::find(path.begin(), path.end(), from);
        const std::vector<int64_t> cycle(first, path.end());
        path.erase(first, path.end());
        const int64_t id = next_id++;
        graph.contract(cycle, id);
        path.push_back(id);
        state[id] = kOnPath;
      }
    }
  }

  // Expand, outermost cycles first: the edge chosen into a cycle goes to the member holding its
  // head vertex, and every other member keeps its cycle edge.
  std::vector<int64_t> chosen(graph.enter);
  for (int64_t id = next_id - 1; id >= n; --id) {
    int64_t member = chosen[id] % n;
    while (graph.cycle_of[member] != id) member = graph.cycle_of[member];
    for (int64_t m : graph.members[id]) chosen[m] = m == member ? chosen[id] : graph.enter[m];
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
