// libFuzzer target: Chu-Liu-Edmonds against every arborescence, n <= 6, any root, with ties,
// absent edges (-inf) and magnitudes up to 127 x 2^31.
#include <cmath>

#include "fuzz/fuzz_input.h"
#include "structgrad/solvers/arborescence.h"
#include "structgrad/solvers/enumerate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace structgrad;
  fuzz::Instance in;
  if (!fuzz::read_instance(data, size, 6, 64, /*symmetric=*/false, in)) return 0;
  const int64_t n = in.n, root = in.spare % n;
  double best = n == 1 ? 0.0 : -INFINITY;
  static std::vector<std::vector<int64_t>> arborescences_of[7][7];  // enumerated once per n and root
  if (arborescences_of[n][root].empty()) arborescences_of[n][root] = solvers::arborescences(n, root);
  for (const auto& parent : arborescences_of[n][root]) {
    double s = 0;
    for (int64_t v = 0; v < n; ++v)
      if (v != root) s += in.w[parent[v] * n + v];
    best = std::max(best, s);
  }
  const solvers::ArborescenceResult r = solvers::max_arborescence(in.w.data(), n, root);
  if (!std::isfinite(best)) {
    if (r.status != solvers::ArborescenceStatus::kNoArborescence)
      fuzz::fail("unreachable vertex spanned", r.weight, best);
    return 0;
  }
  if (r.status != solvers::ArborescenceStatus::kOptimal) fuzz::fail("reachable instance refused", 0, best);
  if (int64_t(r.parent.size()) != n || r.parent[root] != -1) fuzz::fail("parent array", double(r.parent.size()), n);
  double s = 0;
  for (int64_t v = 0; v < n; ++v) {
    if (v == root) continue;
    // Every vertex reaches the root by at most n - 1 parents.
    int64_t u = v;
    for (int64_t steps = 0; u != root; ++steps) {
      if (steps == n || r.parent[u] < 0 || r.parent[u] >= n) fuzz::fail("not an arborescence", double(v), double(root));
      u = r.parent[u];
    }
    s += in.w[r.parent[v] * n + v];
  }
  fuzz::check_optimum(in, "weight of the arborescence", s, r.weight, best);
  return 0;
}
