// Algorithms with the stochastic invariant (seed 002 §2.1, §2.3), each one `Recursion`
// definition (solvers/recursion.h): the driver gives their samples, traces and trace programs.
//
//   SelectionRecursion   top-k (Alg. 1): k times the best key left. ordered = false: X is the
//                        subset's (n) indicator; ordered = true (k = n: insertion sort, the
//                        Plackett-Luce ranking): X[i * n + r] = 1 when item i has rank r.
//   MatchingRecursion    greedy row-column matching of an n x n matrix: the best entry whose row
//                        and column are both free, n times. X is the (n, n) permutation matrix.
//   KruskalRecursion     Kruskal on the upper triangle of an n x n matrix: the best edge {i, j},
//                        i < j, joining two components, n - 1 times. X is the symmetric tree.
//   BinaryTreeRecursion  the node-weight recursion: in every segment of the sequence 0..n-1 the
//                        best node becomes the parent of the segment's left and right parts.
//                        X[p * n + c] = 1 when node p is the parent of node c.
//
// "Best" is the argmin of E, the argmax of theta + G. All are nested; all but the binary tree
// choose from one group per level.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "structgrad/solvers/recursion.h"

namespace structgrad::solvers {

class SelectionRecursion : public Recursion {
 public:
  SelectionRecursion(int64_t n, int64_t k, bool ordered);
  int64_t num_keys() const override { return n_; }
  int64_t structure_size() const override { return ordered_ ? n_ * n_ : n_; }
  void reset() override;
  bool stop() const override { return int64_t(order_.size()) == k_; }
  void map(const int64_t* argmins, int64_t count) override;
  void combine(double* structure) const override;
  bool single_group() const override { return true; }
  bool active(int64_t key) const override { return !taken_[key]; }
  bool removed_keys(std::vector<int64_t>& removed) const override;
  bool nested() const override { return true; }

 private:
  int64_t n_, k_;
  bool ordered_;
  std::vector<uint8_t> taken_;
  std::vector<int64_t> order_;
};

class MatchingRecursion : public Recursion {
 public:
  explicit MatchingRecursion(int64_t n);
  int64_t num_keys() const override { return n_ * n_; }
  int64_t structure_size() const override { return n_ * n_; }
  void reset() override;
  bool stop() const override { return int64_t(entries_.size()) == n_; }
  void map(const int64_t* argmins, int64_t count) override;
  void combine(double* structure) const override;
  bool single_group() const override { return true; }
  bool active(int64_t key) const override { return !row_used_[key / n_] && !column_used_[key % n_]; }
  // The chosen entry's row and column.
  bool removed_keys(std::vector<int64_t>& removed) const override;
  bool nested() const override { return true; }

 private:
  int64_t n_;
  std::vector<uint8_t> row_used_, column_used_;
  std::vector<int64_t> entries_;
};

class KruskalRecursion : public Recursion {
 public:
  explicit KruskalRecursion(int64_t n);
  int64_t num_keys() const override { return n_ * n_; }
  int64_t structure_size() const override { return n_ * n_; }
  void reset() override;
  bool stop() const override { return int64_t(edges_.size()) == n_ - 1; }
  void map(const int64_t* argmins, int64_t count) override;
  void combine(double* structure) const override;
  bool single_group() const override { return true; }
  // Only the upper triangle holds keys; an edge is in K while it joins two components.
  bool active(int64_t key) const override;
  // The edges between the two components the last edge joined: O(n^2) over the whole recursion.
  bool removed_keys(std::vector<int64_t>& removed) const override;
  bool nested() const override { return true; }

 private:
  int64_t find(int64_t v) const;
  int64_t n_;
  mutable std::vector<int64_t> parent_;  // union-find; find() compresses paths
  std::vector<int64_t> rank_;
  std::vector<std::vector<int64_t>> members_;  // the vertices of every component, by its root
  std::vector<int64_t> joined_a_, joined_b_;   // the last merge's two components
  std::vector<int64_t> edges_;
};

class BinaryTreeRecursion : public Recursion {
 public:
  explicit BinaryTreeRecursion(int64_t n);
  int64_t num_keys() const override { return n_; }
  int64_t structure_size() const override { return n_ * n_; }
  void reset() override;
  bool stop() const override { return segments_.empty(); }
  void split(Partition& groups) const override;
  void map(const int64_t* argmins, int64_t count) override;
  void combine(double* structure) const override;
  bool nested() const override { return true; }

 private:
  struct Segment {
    int64_t begin, end, parent;  // nodes [begin, end), whose parent is `parent` (-1: the root)
  };
  int64_t n_;
  std::vector<Segment> segments_;
  std::vector<int64_t> parent_;
};

}  // namespace structgrad::solvers
