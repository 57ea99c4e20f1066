#include "structgrad/solvers/gibbs_sampling.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "structgrad/core/log_space.h"
#include "structgrad/core/vector_clones.h"
#include "structgrad/core/vector_exp.h"
#include "structgrad/solvers/matrix_tree.h"

namespace structgrad::solvers {
namespace {

using core::log_add;

using core::kInf;

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// The walk's steps, computed once from theta: out of v (not the root) to a parent u with
// probability exp(theta[u][v]) / exp(log_total[v]). Row v of `cumulative` holds the running sums
// of exp(theta[u][v] - max_u theta[u][v]) over u (0 for u = v and for absent edges), which is all
// a step needs: a draw scales the uniform by the row's total. The n^2 exps are most of the
// sampler's time at unit-scale logits, so the fill is compiled for AVX2 as well.
STRUCTGRAD_VECTOR_CLONES void fill_walk_table(const double* theta, int64_t n, int64_t root, double* cumulative,
                                              double* log_total) {
  for (int64_t v = 0; v < n; ++v) {
    log_total[v] = -kInf;
    double* row = cumulative + v * n;
    if (v == root) {
      std::fill(row, row + n, 0.0);
      continue;
    }
    for (int64_t u = 0; u < n; ++u) row[u] = theta[u * n + v];
    row[v] = -kInf;
    double best = -kInf;
    for (int64_t u = 0; u < n; ++u) best = std::max(best, row[u]);
    if (best == -kInf) {
      std::fill(row, row + n, 0.0);
      continue;
    }
    core::exp_shifted_in_place(row, n, best);
    for (int64_t u = 1; u < n; ++u) row[u] += row[u - 1];
    log_total[v] = best + std::log(row[n - 1]);
  }
}

struct WalkTable {
  std::vector<double> cumulative;
  std::vector<double> log_total;  // -inf: v has no possible parent

  WalkTable(const double* theta, int64_t n, int64_t root) : cumulative(n * n), log_total(n) {
    fill_walk_table(theta, n, root, cumulative.data(), log_total.data());
  }
};

// -log q_v: the cost of the most likely walk path from v to the root, where a step v -> u costs
// -log P(v -> u) = log_total[v] - theta[u][v] >= 0. Dense Dijkstra from the root, O(n^2), its
// relaxation a branch-free pass over row u of theta: a vertex already settled cannot improve, and
// an absent edge costs +inf.
STRUCTGRAD_VECTOR_CLONES std::vector<double> walk_costs(const double* theta, const WalkTable& walk, int64_t n,
                                                        int64_t root) {
  std::vector<double> cost(n, kInf), pending(n, kInf);
  pending[root] = 0;
  const double* log_total = walk.log_total.data();
  for (int64_t round = 0; round < n; ++round) {
    int64_t u = 0;
    for (int64_t x = 1; x < n; ++x) u = pending[x] < pending[u] ? x : u;
    const double settled = pending[u];
    if (settled == kInf) break;
    cost[u] = settled;
    const double* row = theta + u * n;
    for (int64_t v = 0; v < n; ++v) {
      // NaN where v has no possible parent at all (-inf - -inf): it stays unreached.
      const double candidate = settled + std::max(log_total[v] - row[v], 0.0);
      pending[v] = candidate < pending[v] ? candidate : pending[v];
    }
    for (int64_t v = 0; v < n; ++v) pending[v] = cost[v] < kInf ? kInf : pending[v];
  }
  return cost;
}

double bound_of(const std::vector<double>& cost, int64_t root) {
  double bound = 0;
  for (int64_t v = 0; v < static_cast<int64_t>(cost.size()); ++v)
    if (v != root) bound += std::exp(cost[v]);
  return bound;
}

bool all_vertices_reachable(const std::vector<double>& cost) {
  return std::all_of(cost.begin(), cost.end(), [](double c) { return c < kInf; });
}

// The index i with cumulative[i - 1] <= u * total < cumulative[i] (cumulative nondecreasing,
// cumulative[size - 1] = total > 0, u in (0, 1)): never an entry of zero weight.
int64_t draw_index(const double* cumulative, int64_t size, double u) {
  const double target = u * cumulative[size - 1];
  int64_t i = std::upper_bound(cumulative, cumulative + size, target) - cumulative;
  if (i < size) return i;
  // u * total rounded up to total: the last entry of positive weight.
  for (i = size - 1; i > 0 && cumulative[i] == cumulative[i - 1];) --i;
  return i;
}

void wilson(const WalkTable& walk, int64_t n, int64_t root, RandomStream& random, int64_t* parent) {
  std::vector<char> in_tree(n, 0);
  in_tree[root] = 1;
  parent[root] = -1;
  for (int64_t start = 0; start < n; ++start) {
    // Walk until the tree; parent[] keeps the last exit of every vertex, which is the loop erasure.
    for (int64_t u = start; !in_tree[u]; u = parent[u])
      parent[u] = draw_index(&walk.cumulative[u * n], n, random.uniform());
    for (int64_t u = start; !in_tree[u]; u = parent[u]) in_tree[u] = 1;
  }
}

bool sequential(const double* theta, int64_t n, int64_t root, RandomStream& random, int64_t* parent) {
  std::vector<double> conditioned(theta, theta + n * n), marginals(n * n), cumulative(n);
  std::vector<double> state(MatrixTreeWorkspace::state_size(n));
  MatrixTreeWorkspace workspace;
  parent[root] = -1;
  for (int64_t v = 0; v < n; ++v) {
    if (v == root) continue;
    double log_z = 0;
    if (!workspace.forward(state.data(), conditioned.data(), n, root, /*directed=*/true, log_z, marginals.data()))
      return false;
    double sum = 0;
    for (int64_t u = 0; u < n; ++u) {
      if (u != v) sum += std::max(0.0, marginals[u * n + v]);
      cumulative[u] = sum;
    }
    const int64_t chosen = draw_index(cumulative.data(), n, random.uniform());
    parent[v] = chosen;
    for (int64_t u = 0; u < n; ++u)
      if (u != chosen) conditioned[u * n + v] = -kInf;
  }
  return true;
}

}  // namespace

RandomStream::RandomStream(uint64_t seed) {
  for (uint64_t& s : state_) s = splitmix64(seed);
}

uint64_t RandomStream::next() {
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double RandomStream::uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

bool parse_tree_sampler(const char* name, TreeSampler& sampler) {
  if (std::strcmp(name, "auto") == 0) {
    sampler = TreeSampler::kAuto;
  } else if (std::strcmp(name, "wilson") == 0) {
    sampler = TreeSampler::kWilson;
  } else if (std::strcmp(name, "sequential") == 0) {
    sampler = TreeSampler::kSequential;
  } else {
    return false;
  }
  return true;
}

double wilson_step_bound(const double* theta, int64_t n, int64_t root) {
  return bound_of(walk_costs(theta, WalkTable(theta, n, root), n, root), root);
}

double wilson_budget(int64_t n) { return 4.0 * static_cast<double>(n) * n * n; }

TreeSampleStatus gibbs_arborescence(const double* theta, int64_t n, int64_t root, TreeSampler sampler,
                                    RandomStream& random, int64_t* parent) {
  TreeSampleStatus status;
  const WalkTable walk(theta, n, root);
  const std::vector<double> cost = walk_costs(theta, walk, n, root);
  if (!all_vertices_reachable(cost)) {
    status.unreachable = true;
    return status;
  }
  const double bound = bound_of(cost, root);
  if (sampler == TreeSampler::kAuto)
    sampler = bound <= wilson_budget(n) ? TreeSampler::kWilson : TreeSampler::kSequential;
  if (sampler == TreeSampler::kWilson && !(bound <= 1e12)) {
    status.too_slow = true;
    return status;
  }
  status.used = sampler;
  if (sampler == TreeSampler::kWilson) {
    wilson(walk, n, root, random, parent);
    status.ok = true;
  } else {
    status.ok = sequential(theta, n, root, random, parent);
    status.unreachable = !status.ok;
  }
  return status;
}

void gibbs_ksubset(const double* theta, int64_t n, int64_t k, RandomStream& random, double* x) {
  // table[i * (k + 1) + c] = log sum over the c-subsets of items 0..i-1 of exp(their scores).
  const int64_t width = k + 1;
  std::vector<double> table((n + 1) * width, -kInf);
  table[0] = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c <= std::min(k, i + 1); ++c) {
      double value = table[i * width + c];
      if (c > 0) value = log_add(value, table[i * width + c - 1] + theta[i]);
      table[(i + 1) * width + c] = value;
    }
  int64_t remaining = k;
  for (int64_t i = n - 1; i >= 0; --i) {
    x[i] = 0;
    if (remaining == 0) continue;
    // P(item i in S | the items after i) = exp(theta_i) Z_i(remaining - 1) / Z_(i+1)(remaining).
    const double p = std::exp(theta[i] + table[i * width + remaining - 1] - table[(i + 1) * width + remaining]);
    if (random.uniform() < p) {
      x[i] = 1;
      --remaining;
    }
  }
}

void gibbs_correlated_subset(const double* theta, int64_t n, int64_t k, RandomStream& random, double* x) {
  // table[(i * (k + 1) + c) * 2 + s] = log sum over the choices of items 0..i with c selected and
  // item i's choice s of exp(their score, adjacent pairs included).
  const int64_t width = k + 1;
  const double* pair = theta + n;  // pair[i]: items i and i + 1
  std::vector<double> table(n * width * 2, -kInf);
  auto at = [&](int64_t i, int64_t c, int64_t s) -> double& { return table[(i * width + c) * 2 + s]; };
  at(0, 0, 0) = 0;
  if (k >= 1) at(0, 1, 1) = theta[0];
  for (int64_t i = 1; i < n; ++i)
    for (int64_t c = 0; c <= k; ++c) {
      at(i, c, 0) = log_add(at(i - 1, c, 0), at(i - 1, c, 1));
      if (c > 0) at(i, c, 1) = theta[i] + log_add(at(i - 1, c - 1, 0), at(i - 1, c - 1, 1) + pair[i - 1]);
    }
  auto choose = [&](double log_zero, double log_one) {
    const double total = log_add(log_zero, log_one);
    return random.uniform() < std::exp(log_one - total) ? 1 : 0;
  };
  int64_t count = k;
  int64_t s = choose(at(n - 1, count, 0), at(n - 1, count, 1));
  x[n - 1] = s;
  for (int64_t i = n - 1; i >= 1; --i) {
    count -= s;
    const int64_t previous = choose(at(i - 1, count, 0), at(i - 1, count, 1) + (s ? pair[i - 1] : 0.0));
    x[i - 1] = previous;
    x[n + i - 1] = s * previous;
    s = previous;
  }
}

}  // namespace structgrad::solvers
