#include "structgrad/solvers/enumerate.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace structgrad::solvers {
namespace {

// Calls visit(tuple) for every tuple in {0, ..., base-1}^length, in lexicographic order.
template <typename Visit>
void for_each_tuple(int64_t length, int64_t base, Visit visit) {
  std::vector<int64_t> tuple(length, 0);
  while (true) {
    visit(tuple);
    int64_t i = length - 1;
    while (i >= 0 && tuple[i] == base - 1) tuple[i--] = 0;
    if (i < 0) return;
    ++tuple[i];
  }
}

// The tree with this Pruefer sequence (n = sequence length + 2), as sorted edges (i < j).
std::vector<std::pair<int64_t, int64_t>> pruefer_tree(const std::vector<int64_t>& sequence, int64_t n) {
  std::vector<int64_t> degree(n, 1);
  for (int64_t a : sequence) ++degree[a];
  std::vector<std::pair<int64_t, int64_t>> edges;
  for (int64_t a : sequence) {
    int64_t leaf = 0;
    while (degree[leaf] != 1) ++leaf;
    edges.emplace_back(std::min(a, leaf), std::max(a, leaf));
    --degree[leaf];
    --degree[a];
  }
  std::vector<int64_t> last;
  for (int64_t v = 0; v < n; ++v)
    if (degree[v] == 1) last.push_back(v);
  edges.emplace_back(last[0], last[1]);
  std::sort(edges.begin(), edges.end());
  return edges;
}

}  // namespace

std::vector<std::vector<int64_t>> k_subsets(int64_t n, int64_t k) {
  if (n < 0 || k < 0 || k > n) throw std::invalid_argument("k_subsets: need 0 <= k <= n");
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> current(k);
  std::iota(current.begin(), current.end(), 0);
  while (true) {
    out.push_back(current);
    // Advance the rightmost index that still has room.
    int64_t i = k - 1;
    while (i >= 0 && current[i] == n - k + i) --i;
    if (i < 0) return out;
    ++current[i];
    for (int64_t j = i + 1; j < k; ++j) current[j] = current[j - 1] + 1;
  }
}

std::vector<std::vector<int64_t>> permutations(int64_t n) {
  if (n < 0) throw std::invalid_argument("permutations: need n >= 0");
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> current(n);
  std::iota(current.begin(), current.end(), 0);
  do out.push_back(current);
  while (std::next_permutation(current.begin(), current.end()));
  return out;
}

std::vector<std::vector<std::pair<int64_t, int64_t>>> spanning_trees(int64_t n) {
  if (n < 1) throw std::invalid_argument("spanning_trees: need n >= 1");
  if (n == 1) return {{}};
  std::vector<std::vector<std::pair<int64_t, int64_t>>> out;
  for_each_tuple(n - 2, n, [&](const std::vector<int64_t>& sequence) { out.push_back(pruefer_tree(sequence, n)); });
  return out;
}

std::vector<std::vector<int64_t>> arborescences(int64_t n, int64_t root) {
  if (n < 1) throw std::invalid_argument("arborescences: need n >= 1");
  if (root < 0 || root >= n) throw std::invalid_argument("arborescences: need 0 <= root < n");
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> parent(n);
  // One parent per non-root vertex; keep the parent functions in which every vertex reaches root.
  for_each_tuple(n - 1, n, [&](const std::vector<int64_t>& choice) {
    for (int64_t v = 0, k = 0; v < n; ++v) parent[v] = v == root ? -1 : choice[k++];
    for (int64_t v = 0; v < n; ++v) {
      int64_t u = v;
      for (int64_t steps = 0; u != root && steps < n; ++steps) u = parent[u];
      if (u != root) return;
    }
    out.push_back(parent);
  });
  return out;
}

}  // namespace structgrad::solvers
