#include "structgrad/solvers/recursive_algorithms.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace structgrad::solvers {
namespace {

void check_size(const char* algorithm, int64_t n) {
  if (n < 1) throw std::invalid_argument(std::string(algorithm) + ": n must be at least 1, got " + std::to_string(n));
}

}  // namespace

SelectionRecursion::SelectionRecursion(int64_t n, int64_t k, bool ordered) : n_(n), k_(k), ordered_(ordered) {
  check_size("SelectionRecursion", n);
  if (k < 0 || k > n)
    throw std::invalid_argument("SelectionRecursion: k must be in [0, n], got " + std::to_string(k));
}

void SelectionRecursion::reset() {
  taken_.assign(n_, 0);
  order_.clear();
}

void SelectionRecursion::map(const int64_t* argmins, int64_t) {
  taken_[argmins[0]] = 1;
  order_.push_back(argmins[0]);
}

bool SelectionRecursion::removed_keys(std::vector<int64_t>& removed) const {
  removed.push_back(order_.back());
  return true;
}

void SelectionRecursion::combine(double* structure) const {
  for (size_t r = 0; r < order_.size(); ++r) structure[ordered_ ? order_[r] * n_ + int64_t(r) : order_[r]] = 1;
}

MatchingRecursion::MatchingRecursion(int64_t n) : n_(n) { check_size("MatchingRecursion", n); }

void MatchingRecursion::reset() {
  row_used_.assign(n_, 0);
  column_used_.assign(n_, 0);
  entries_.clear();
}

void MatchingRecursion::map(const int64_t* argmins, int64_t) {
  row_used_[argmins[0] / n_] = column_used_[argmins[0] % n_] = 1;
  entries_.push_back(argmins[0]);
}

bool MatchingRecursion::removed_keys(std::vector<int64_t>& removed) const {
  const int64_t row = entries_.back() / n_, column = entries_.back() % n_;
  for (int64_t j = 0; j < n_; ++j) removed.push_back(row * n_ + j);
  for (int64_t i = 0; i < n_; ++i)
    if (i != row) removed.push_back(i * n_ + column);
  return true;
}

void MatchingRecursion::combine(double* structure) const {
  for (int64_t e : entries_) structure[e] = 1;
}

KruskalRecursion::KruskalRecursion(int64_t n) : n_(n) { check_size("KruskalRecursion", n); }

void KruskalRecursion::reset() {
  parent_.resize(n_);
  std::iota(parent_.begin(), parent_.end(), 0);
  rank_.assign(n_, 0);
  members_.assign(n_, {});
  for (int64_t v = 0; v < n_; ++v) members_[v] = {v};
  edges_.clear();
}

int64_t KruskalRecursion::find(int64_t v) const {
  while (parent_[v] != v) v = parent_[v] = parent_[parent_[v]];
  return v;
}

bool KruskalRecursion::active(int64_t key) const {
  const int64_t i = key / n_, j = key % n_;
  return i < j && find(i) != find(j);
}

void KruskalRecursion::map(const int64_t* argmins, int64_t) {
  int64_t a = find(argmins[0] / n_), b = find(argmins[0] % n_);
  if (rank_[a] < rank_[b]) std::swap(a, b);
  parent_[b] = a;
  if (rank_[a] == rank_[b]) ++rank_[a];
  joined_a_ = members_[a];
  joined_b_ = std::move(members_[b]);
  members_[a].insert(members_[a].end(), joined_b_.begin(), joined_b_.end());
  edges_.push_back(argmins[0]);
}

bool KruskalRecursion::removed_keys(std::vector<int64_t>& removed) const {
  for (int64_t u : joined_a_)
    for (int64_t v : joined_b_) removed.push_back(std::min(u, v) * n_ + std::max(u, v));
  return true;
}

void KruskalRecursion::combine(double* structure) const {
  for (int64_t e : edges_) structure[e] = structure[(e % n_) * n_ + e / n_] = 1;
}

BinaryTreeRecursion::BinaryTreeRecursion(int64_t n) : n_(n) { check_size("BinaryTreeRecursion", n); }

void BinaryTreeRecursion::reset() {
  segments_.assign(1, Segment{0, n_, -1});
  parent_.assign(n_, -1);
}

void BinaryTreeRecursion::split(Partition& groups) const {
  for (const Segment& s : segments_) {
    for (int64_t v = s.begin; v < s.end; ++v) groups.add(v);
    groups.close_group();
  }
}

void BinaryTreeRecursion::map(const int64_t* argmins, int64_t count) {
  if (count != int64_t(segments_.size())) throw std::logic_error("BinaryTreeRecursion::map: one argmin per segment");
  std::vector<Segment> next;
  for (int64_t g = 0; g < count; ++g) {
    const Segment& s = segments_[g];
    const int64_t root = argmins[g];
    parent_[root] = s.parent;
    if (root > s.begin) next.push_back({s.begin, root, root});
    if (root + 1 < s.end) next.push_back({root + 1, s.end, root});
  }
  segments_ = std::move(next);
}

void BinaryTreeRecursion::combine(double* structure) const {
  for (int64_t v = 0; v < n_; ++v)
    if (parent_[v] >= 0) structure[parent_[v] * n_ + v] = 1;
}

}  // namespace structgrad::solvers
