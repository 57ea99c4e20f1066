// Chu-Liu-Edmonds as a recursion with the stochastic invariant (seed 002 §2.3), plain C++.
//
// Problem: given a directed graph on n nodes with independent exponential edge weights E
// (E[i * n + j] for the edge i -> j) and a root, find the spanning arborescence rooted at root
// (every other node has one parent and reaches root by following parents) of minimum total E.
// Under E_j ~ Exp(exp(theta_j)) its trace has an exact, factorized probability (recursion.h).
//
// Algorithm (Chu-Liu-Edmonds / Edmonds' algorithm, one level per round of contractions):
//   state   a partition of the nodes into super-nodes; the root's super-node is the root alone
//           (no edge enters it). At the top level every node is its own super-node.
//   f_split one group per non-root super-node S: the edges u -> v with v in S and u outside S.
//           K is the union: the edges between two different super-nodes, none into the root.
//   argmin  every super-node's cheapest incoming edge; the driver's residual update
//           E' = E - E_T on the group is exactly CLE's reweighting of the edges entering S.
//   f_map   the chosen edges acyclic among super-nodes: done. Otherwise every cycle of chosen
//           edges becomes one new super-node; K' drops the edges inside it.
//   f_combine the last level's chosen edges, expanded through the contractions: the edge that
//           enters a contracted super-node replaces the cycle edge of the member that holds its
//           head, recursively; every other member keeps its cycle edge.
// The recursion is not nested (a contracted super-node's group merges its members' groups), so
// the driver updates the residuals.
//
// Trace layout: the top level lists the chosen in-edge of every node v != root in increasing v
// (n - 1 entries). At every later level the groups come in increasing super-node id: the nodes
// keep their ids 0..n-1, contracted super-nodes get the ids n, n + 1, ... in order of creation,
// and the cycles of one level are created in order of their smallest member id. A super-node
// that survives a level uncontracted holds its chosen edge at residual 0, the only zero in its
// group: any other chosen edge into it was chosen by a part of it and became a cycle edge inside
// it, and the new super-nodes hold none. So the driver re-chooses the survivors' edges without
// trace entries; only the new super-nodes add entries, one each. The
// trace has (n - 1) + (number of contracted cycles) entries.
//
// Complexity: O(n^2) per level (each split lists every edge between super-nodes once), at most
// n - 1 contraction levels: O(n^3) worst case; O(n^2) memory (the super-nodes' node lists).
//
// Usage:
//   solvers::ChuLiuEdmondsRecursion cle(n, root);
//   std::vector<double> scores = ...;            // -log E = theta + G, n * n of them
//   std::vector<uint8_t> present(n * n, 1);      // 0: absent edge (diagonal, into root ignored)
//   solvers::RecursionRun r = solvers::run(cle, scores.data(), present.data());
//   if (r.status == solvers::RecursionRun::Status::kOk) {
//     std::vector<double> x(n * n, 0);
//     cle.combine(x.data());                     // x[i * n + j] = 1: edge i -> j in the tree
//   }
#pragma once

#include <cstdint>
#include <vector>

#include "structgrad/solvers/recursion.h"

namespace structgrad::solvers {

class ChuLiuEdmondsRecursion : public Recursion {
 public:
  // Needs n >= 1 and 0 <= root < n (std::invalid_argument otherwise).
  ChuLiuEdmondsRecursion(int64_t n, int64_t root);
  int64_t num_keys() const override { return n_ * n_; }
  int64_t structure_size() const override { return n_ * n_; }
  void reset() override;
  bool stop() const override { return done_ || current_.empty(); }
  void split(Partition& groups) const override;
  void map(const int64_t* argmins, int64_t count) override;
  void combine(double* structure) const override;

  // The number of cycles contracted so far (in the final state: by the whole recursion).
  int64_t contractions() const { return int64_t(members_.size()) - n_; }

 private:
  int64_t n_, root_;
  bool done_ = false;
  std::vector<int64_t> current_;               // the non-root super-nodes, increasing id
  std::vector<int64_t> super_of_;              // node -> its current super-node
  std::vector<std::vector<int64_t>> members_;  // super-node -> its nodes, increasing
  std::vector<int64_t> contracted_into_;       // super-node -> the super-node it joined, or -1
  // super-node -> its chosen in-edge: the last level's for current ones, the cycle edge for
  // contracted ones (a super-node re-chooses the same edge until it is contracted).
  std::vector<int64_t> chosen_;
};

}  // namespace structgrad::solvers
