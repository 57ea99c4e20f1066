// libFuzzer target: the matrix-tree theorem's log Z and marginals (directed and undirected, linear
// and log space) against the sum over every tree, n <= 6, with absent edges (-inf) and logits up
// to 2^9 * 127 in magnitude, so that both of the elimination's spaces run.
#include <cmath>

#include "fuzz/fuzz_input.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/matrix_tree.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace structgrad;
  const bool directed = size > 0 && (data[size - 1] & 1);
  fuzz::Instance in;
  if (!fuzz::read_instance(data, size, 6, 20, /*symmetric=*/!directed, in)) return 0;
  const int64_t n = in.n, root = directed ? in.spare % n : 0;
  // Every tree (as the keys i * n + j of its edges, enumerated once per n, root and kind), then
  // log Z and the marginals by a shifted sum in long double.
  static std::vector<std::vector<int64_t>> trees_of[7][7][2];
  std::vector<std::vector<int64_t>>& edges_of = trees_of[n][root][directed];
  if (edges_of.empty() && directed) {
    for (const auto& parent : solvers::arborescences(n, root)) {
      std::vector<int64_t> keys;
      for (int64_t v = 0; v < n; ++v)
        if (v != root) keys.push_back(parent[v] * n + v);
      edges_of.push_back(keys);
    }
  } else if (edges_of.empty()) {
    for (const auto& tree : solvers::spanning_trees(n)) {
      std::vector<int64_t> keys;
      for (auto [i, j] : tree) keys.push_back(i * n + j);
      edges_of.push_back(keys);
    }
  }
  std::vector<long double> score(edges_of.size(), 0);
  long double top = -INFINITY;
  for (size_t t = 0; t < edges_of.size(); ++t) {
    for (int64_t k : edges_of[t]) score[t] += in.w[k];
    top = std::max(top, score[t]);
  }
  solvers::MatrixTreeWorkspace workspace;
  std::vector<double> state(solvers::MatrixTreeWorkspace::state_size(n)), marginals(n * n, 0);
  double log_z = 0;
  const bool ok = workspace.forward(state.data(), in.w.data(), n, root, directed, log_z, marginals.data());
  if (!std::isfinite(double(top))) {
    if (ok) fuzz::fail("no tree, yet a log Z", log_z, double(top));
    return 0;
  }
  if (!ok) fuzz::fail("trees exist, yet refused", 0, double(top));
  long double total = 0;
  std::vector<long double> reference(n * n, 0);
  for (size_t t = 0; t < edges_of.size(); ++t) {
    const long double p = std::exp(score[t] - top);
    total += p;
    for (int64_t k : edges_of[t]) reference[k] += p;
  }
  const double expected = double(top + std::log(total));
  // Sums of n - 1 logits of up to 2^9 * 127: the forward's rounding scales with them.
  const double tolerance = 1e-11 * (in.largest + 1) * double(n);
  if (std::abs(log_z - expected) > tolerance) fuzz::fail("log Z", log_z, expected);
  for (int64_t k = 0; k < n * n; ++k) {
    // Undirected marginals are symmetric; the enumeration counted the upper triangle's key.
    const int64_t i = k / n, j = k % n;
    const long double p = (directed || i < j ? reference[k] : reference[j * n + i]) / total;
    if (i != j && std::abs(marginals[k] - double(p)) > 1e-9) fuzz::fail("marginal", marginals[k], double(p));
  }
  return 0;
}
