// libFuzzer target: Kruskal's maximum spanning tree against every spanning tree, n <= 7, with
// ties, absent edges (-inf) and magnitudes up to 127 x 2^31.
#include <cmath>
#include <numeric>

#include "fuzz/fuzz_input.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/kruskal.h"

namespace {

// Whether `edges` (n - 1 of them) connect all n vertices.
bool spans(const std::vector<std::pair<int64_t, int64_t>>& edges, int64_t n) {
  std::vector<int64_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int64_t v) {
    while (parent[v] != v) v = parent[v];
    return v;
  };
  for (auto [i, j] : edges) {
    if (i < 0 || j >= n || i >= j) return false;
    const int64_t a = find(i), b = find(j);
    if (a == b) return false;
    parent[a] = b;
  }
  return int64_t(edges.size()) == n - 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace structgrad;
  fuzz::Instance in;
  if (!fuzz::read_instance(data, size, 7, 64, /*symmetric=*/true, in)) return 0;
  const int64_t n = in.n;
  double best = n == 1 ? 0.0 : -INFINITY;
  static std::vector<std::vector<std::pair<int64_t, int64_t>>> trees_of[8];  // enumerated once per n
  if (trees_of[n].empty()) trees_of[n] = solvers::spanning_trees(n);
  for (const auto& tree : trees_of[n]) {
    double s = 0;
    for (auto [i, j] : tree) s += in.w[i * n + j];
    best = std::max(best, s);
  }
  const solvers::SpanningTreeResult r = solvers::max_spanning_tree(in.w.data(), n);
  if (!std::isfinite(best)) {
    if (r.status != solvers::SpanningTreeStatus::kDisconnected)
      fuzz::fail("disconnected graph spanned", r.weight, best);
    return 0;
  }
  if (r.status != solvers::SpanningTreeStatus::kOptimal) fuzz::fail("connected graph refused", 0, best);
  if (!spans(r.edges, n)) fuzz::fail("not a spanning tree", double(r.edges.size()), double(n - 1));
  double s = 0;
  for (auto [i, j] : r.edges) s += in.w[i * n + j];
  fuzz::check_optimum(in, "weight of the tree", s, r.weight, best);
  return 0;
}
