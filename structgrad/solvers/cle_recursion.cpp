#include "structgrad/solvers/cle_recursion.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace structgrad::solvers {

ChuLiuEdmondsRecursion::ChuLiuEdmondsRecursion(int64_t n, int64_t root) : n_(n), root_(root) {
  if (n < 1) throw std::invalid_argument("ChuLiuEdmondsRecursion: n must be at least 1, got " + std::to_string(n));
  if (root < 0 || root >= n)
    throw std::invalid_argument("ChuLiuEdmondsRecursion: root must be in [0, n), got root " + std::to_string(root) +
                                " with n " + std::to_string(n));
}

void ChuLiuEdmondsRecursion::reset() {
  done_ = false;
  current_.clear();
  for (int64_t v = 0; v < n_; ++v)
    if (v != root_) current_.push_back(v);
  super_of_.resize(n_);
  std::iota(super_of_.begin(), super_of_.end(), 0);
  members_.resize(n_);
  for (int64_t v = 0; v < n_; ++v) members_[v].assign(1, v);
  contracted_into_.assign(n_, -1);
  chosen_.assign(n_, -1);
}

void ChuLiuEdmondsRecursion::split(Partition& groups) const {
  for (int64_t s : current_) {
    for (int64_t u = 0; u < n_; ++u) {
      if (super_of_[u] == s) continue;
      for (int64_t v : members_[s]) groups.add(u * n_ + v);
    }
    groups.close_group();
  }
}

void ChuLiuEdmondsRecursion::map(const int64_t* argmins, int64_t count) {
  if (count != int64_t(current_.size()))
    throw std::logic_error("ChuLiuEdmondsRecursion::map: one argmin per non-root super-node");
  const int64_t ids = int64_t(members_.size());
  std::vector<int64_t> parent(ids, -1);  // super-node -> the super-node its chosen edge leaves
  for (int64_t g = 0; g < count; ++g) {
    chosen_[current_[g]] = argmins[g];
    parent[current_[g]] = super_of_[argmins[g] / n_];
  }

  // The cycles of super-node -> parent (the root's super-node has none, so it is on none).
  enum : char { kUnseen, kOnPath, kDone };
  std::vector<char> state(ids, kUnseen);
  std::vector<int64_t> cycle(ids, -1), path;
  int64_t cycles = 0;
  for (int64_t start : current_) {
    int64_t s = start;
    while (s != -1 && state[s] == kUnseen) {
      state[s] = kOnPath;
      path.push_back(s);
      s = parent[s];
    }
    if (s != -1 && state[s] == kOnPath) {
      for (int64_t t = s; cycle[t] == -1; t = parent[t]) cycle[t] = cycles;
      ++cycles;
    }
    for (int64_t t : path) state[t] = kDone;
    path.clear();
  }
  if (cycles == 0) {
    done_ = true;
    return;
  }

  // New ids in order of the cycles' smallest members (current_ is increasing), the order the
  // trace lists their groups in.
  std::vector<int64_t> new_id(cycles, -1);
  std::vector<std::vector<int64_t>> cycle_members(cycles);
  int64_t next = ids;
  for (int64_t s : current_)
    if (cycle[s] != -1) {
      if (new_id[cycle[s]] == -1) new_id[cycle[s]] = next++;
      cycle_members[new_id[cycle[s]] - ids].push_back(s);
    }
  std::vector<int64_t> survivors;
  for (int64_t s : current_)
    if (cycle[s] == -1) survivors.push_back(s);
  for (const std::vector<int64_t>& cycle_nodes : cycle_members) {
    const int64_t c = int64_t(members_.size());
    std::vector<int64_t> nodes;
    for (int64_t s : cycle_nodes) {
      contracted_into_[s] = c;
      for (int64_t v : members_[s]) super_of_[v] = c;
      nodes.insert(nodes.end(), members_[s].begin(), members_[s].end());
    }
    std::sort(nodes.begin(), nodes.end());
    members_.push_back(std::move(nodes));
    contracted_into_.push_back(-1);
    chosen_.push_back(-1);
    survivors.push_back(c);
  }
  current_ = std::move(survivors);
}

void ChuLiuEdmondsRecursion::combine(double* structure) const {
  // Expand from the newest super-node down: its in-edge is final once its own parent super-node
  // (a later one) has been expanded.
  std::vector<int64_t> in_edge = chosen_;
  for (int64_t c = int64_t(members_.size()) - 1; c >= n_; --c) {
    const int64_t edge = in_edge[c];
    if (edge < 0) continue;  // after an infeasible run: never chosen
    int64_t member = edge % n_;
    while (contracted_into_[member] != c) member = contracted_into_[member];
    in_edge[member] = edge;
  }
  for (int64_t v = 0; v < n_; ++v)
    if (v != root_ && in_edge[v] >= 0) structure[in_edge[v]] = 1;
}

}  // namespace structgrad::solvers
