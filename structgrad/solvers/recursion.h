// The recursive Gumbel-Max trick (seed 002, Alg. 2 and 3), plain C++.
//
// Problem: many combinatorial algorithms (top-k, insertion sort, greedy matching, Kruskal,
// Chu-Liu-Edmonds, ...) touch their random input E (E_j ~ Exp(lambda_j) independent,
// lambda = exp(theta)) only through argmins over groups of keys. Such an algorithm is defined by
// four subroutines over an index set K of active keys and an auxiliary state R:
//   f_stop(K, R)        the recursion ends;
//   f_split(K, R)       a partition P_1..P_m of K;
//   argmin              T_i = argmin_{j in P_i} E_j, then E'_j = E_j - E_{T_i} on P_i;
//   f_map(K, R, T)      the next level's K' (a strict subset of K) and R';
//   f_combine           the structure X, a function of the trace.
// By the Exponential-Min lemma the trace T (every level's argmins) has an exact, factorized
// probability, and E given T is again a product of exponentials (seed 002, App. A-B). From the
// one definition (a `Recursion`), this file gives the sample and its trace (`run`) and, for a
// given trace, the `TraceProgram` (`replay`) from which the torch layer computes the trace's
// log-probability, its gradient and a sample of E | T (ops/trace.h).
//
// Keys are 0..num_keys-1 (the flattened event of theta). Keys with lambda = 0 (theta = -inf:
// an absent edge) are never an argmin; the driver drops them from every group.
//
// Zero residuals: after T_i is chosen, E'_{T_i} = 0. A group that holds such a key chooses it
// with probability 1; that choice is not recorded in the trace (it follows from the earlier
// ones) and contributes nothing to the log-probability. An algorithm must never put two
// zero-residual keys in one group.
//
// Complexity: run and replay cost one pass over every level's groups, plus the algorithm's own
// work. Single-group algorithms (`single_group()`) have K = their active keys and must remove the
// chosen key from K; when also `nested()` the sampler sorts the perturbation once and scans it,
// O(N log N), and replay only tests active() over K, writing no member lists.
//
// Usage:
//   solvers::SelectionRecursion topk(n, k, /*ordered=*/false);
//   std::vector<double> scores = ...;   // theta + Gumbel = -log E, one per key
//   std::vector<uint8_t> present(n, 1);
//   solvers::RecursionRun r = solvers::run(topk, scores.data(), present.data());
//   // r.trace: the k argmins in order; topk.combine(x) writes the subset's indicator
//   solvers::TraceProgram p;
//   solvers::ReplayStatus s = solvers::replay(topk, r.trace.data(), r.trace.size(), present.data(), p);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace structgrad::solvers {

// A partition of keys into groups, stored one group after another.
struct Partition {
  std::vector<int64_t> keys;
  std::vector<int64_t> offsets{0};  // group g is keys[offsets[g], offsets[g + 1])

  void clear() {
    keys.clear();
    offsets.assign(1, 0);
  }
  void add(int64_t key) { keys.push_back(key); }
  void close_group() { offsets.push_back(int64_t(keys.size())); }
  int64_t size() const { return int64_t(offsets.size()) - 1; }
};

// An algorithm with the stochastic invariant. Implementations hold K and R as their state.
class Recursion {
 public:
  virtual ~Recursion() = default;

  // The number of keys (entries of E) and of entries in the structure's indicator.
  virtual int64_t num_keys() const = 0;
  virtual int64_t structure_size() const = 0;

  // Back to the top level: K = every key, R = its initial value.
  virtual void reset() = 0;
  // f_stop(K, R).
  virtual bool stop() const = 0;
  // f_split(K, R): the groups of K, in a canonical order (the trace lists argmins in it).
  // Not called when single_group().
  virtual void split(Partition& groups) const;
  // f_map: the argmin of every group, in split's order; must shrink K.
  virtual void map(const int64_t* argmins, int64_t count) = 0;
  // f_combine: the structure's 0/1 indicator (structure_size() entries, zeroed by the caller).
  virtual void combine(double* structure) const = 0;

  // True when f_split always returns the single group K, with key j in K iff active(j).
  virtual bool single_group() const { return false; }
  virtual bool active(int64_t key) const;
  // Optional for single-group recursions: appends the keys that the last map() removed from K
  // (absent keys may be among them) and returns true. The default returns false, and replay then
  // tests active() on every key of K at every level.
  virtual bool removed_keys(std::vector<int64_t>& removed) const;
  // True when every group is a subset of one group of the level before, so the argmins depend
  // only on the order of E within groups and the residual update E' = E - E_T can be skipped.
  virtual bool nested() const { return false; }
};

// A sample: the trace (the argmins of the non-degenerate groups, level by level, in each
// level's group order). The algorithm is left in its final state, ready for combine().
struct RecursionRun {
  enum class Status { kOk, kInfeasible };  // infeasible: a group had no present key
  Status status = Status::kOk;
  std::vector<int64_t> trace;
};

// Runs the recursion on perturbed scores s = -log E = theta + G (one per key; only keys with
// present[j] != 0 take part). Working on -log E keeps the recursion finite at any logit scale.
RecursionRun run(Recursion& algorithm, const double* scores, const uint8_t* present);

// What a trace's log-probability and E | T depend on: the non-degenerate groups (present keys
// only) and the key each one chose. Independent of theta, so one replay serves the forward,
// the backward and conditional sampling.
//
// Two layouts. In general the groups' members are listed. A single-group recursion's groups are
// nested (group l holds every key still in K at level l), so instead each key records its
// `exit_level`: it belongs to groups 0 .. exit_level - 1 (0: it never takes part). That is O(N)
// memory, and it lets the torch layer compute every group's normalizer by suffix sums in
// O(N + L) instead of O(sum of group sizes).
struct TraceProgram {
  bool single_group = false;
  std::vector<int32_t> members;  // general layout: group g is members[offsets[g], offsets[g + 1])
  std::vector<int32_t> offsets{0};
  std::vector<int32_t> exit_level;  // single-group layout, one per key
  std::vector<int32_t> chosen;      // one per group: the trace entry
  int64_t num_keys = 0;

  int64_t num_groups() const { return int64_t(chosen.size()); }

  // Calls visit(key) for every member of group g, in either layout.
  template <class Visit>
  void for_each_member(int64_t g, Visit visit) const {
    if (!single_group) {
      for (int32_t i = offsets[g]; i < offsets[g + 1]; ++i) visit(int64_t(members[i]));
      return;
    }
    for (int64_t key = 0; key < num_keys; ++key)
      if (exit_level[key] > g) visit(key);
  }
};

struct ReplayStatus {
  bool ok = true;
  bool incomplete = false;  // not ok only because the trace ends early: a valid prefix
  std::string message;      // why the trace is not a valid trace for this instance
};

// Walks the recursion along a given trace of `length` entries and fills `program`. A trace
// that the algorithm cannot produce (an entry outside its group or absent, too short, too long)
// gives ok = false and a message naming the entry.
ReplayStatus replay(Recursion& algorithm, const int64_t* trace, int64_t length, const uint8_t* present,
                    TraceProgram& program);

// Every trace the recursion can produce on an instance, with the structure each one gives: a
// depth-first search over prefixes that replay accepts. For tests and exact expectations on small
// instances; throws std::length_error when there are more than max_traces.
struct EnumeratedTrace {
  std::vector<int64_t> trace;
  std::vector<double> structure;  // structure_size() entries
};
std::vector<EnumeratedTrace> enumerate_traces(Recursion& algorithm, const uint8_t* present, int64_t max_traces);

}  // namespace structgrad::solvers
