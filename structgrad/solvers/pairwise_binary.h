// MAP of a pairwise binary model (the structured latent space of seed 003, §4.1), plain C++.
//
// Problem: given unaries h (n values) and pairwise weights a (a dense symmetric n x n matrix,
// row-major; only the upper triangle i < j is read, the diagonal and the lower triangle are
// ignored), find z in {0,1}^n maximizing
//   score(z) = sum_i h_i z_i + sum_{i<j} a_ij z_i z_j.
// The problem is NP-hard in general (it contains max-cut) and polynomial when every a_ij >= 0
// (the score is supermodular, so -score is a submodular energy and one minimum cut finds it).
//
// Algorithms:
// - max_pairwise_binary_by_max_flow: supermodular instances only. -score as a graph cut on n + 2
//   vertices and one edge per nonzero a_ij (each pair term rewritten as a unary plus a cut term),
//   solved by Boost's Boykov-Kolmogorov max-flow. O(n^2 m |C|) worst case for m = O(n^2)
//   edges and integer capacities with cut value |C| (no strongly polynomial bound); fast in
//   practice (about 10 ms for n = 300 dense).
// - max_pairwise_binary_by_integer_program: any a. The standard linearization, one continuous
//   y_ij in [0, 1] per nonzero a_ij standing for z_i z_j: y_ij <= z_i and y_ij <= z_j where
//   a_ij > 0 (the objective pushes y_ij up), y_ij >= z_i + z_j - 1 where a_ij < 0 (it pushes
//   y_ij down); solved by CBC's branch and cut, exponential in the worst case: dense instances
//   with mixed signs and n around 30 already outlast seconds (the linearization's LP bound is
//   weak there), hence the time limit. CBC checks it between phases, so setup and root
//   processing can overrun it (about 1 s for n = 100 dense). A greedy ascent seeds CBC with a
//   solution, so a run stopped by the limit still has one, with score >= 0. CBC's standalone
//   solver keeps process-wide state, so solves run one at a time: calls from several threads
//   wait for each other (other code in the process calling CBC directly is not covered).
// - max_pairwise_binary_by_enumeration: every z in Gray-code order, one O(n) update per step:
//   O(2^n n) time, for n <= kMaxPairwiseBinaryEnumeration.
// - max_pairwise_binary: enumeration for n <= 16, max-flow when every a_ij >= 0, CBC otherwise;
//   or the solver that options.solver forces.
//
// Every solver checks its input (std::invalid_argument naming the argument for n < 0 and for a
// NaN or infinite h_i or a_ij) and recomputes the returned score from z exactly. Among optimal
// z, which one comes back depends on the solver.
//
// Usage:
//   std::vector<double> h(n), a(n * n);   // a[i * n + j] == a[j * n + i]: weight of {i, j}
//   auto result = structgrad::solvers::max_pairwise_binary(h.data(), a.data(), n);
//   if (result.status == structgrad::solvers::PairwiseBinaryStatus::kOptimal)
//     use(result.z, result.score);          // z[i] in {0, 1}
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace structgrad::solvers {

enum class PairwiseBinaryStatus {
  kOptimal,          // z maximizes the score
  kTimeLimit,        // CBC stopped at the time limit: z is the best solution found, maybe not optimal
  kNotSupermodular,  // max-flow asked for with some a_ij < 0: z is empty, nothing was solved
  kSolverError,      // CBC gave up (numerical trouble): z is the best solution known, maybe not optimal
};

enum class PairwiseBinarySolver {
  kAuto,             // enumeration for n <= 16, max-flow when supermodular, integer program otherwise
  kEnumeration,
  kMaxFlow,
  kIntegerProgram,
};

struct PairwiseBinaryOptions {
  PairwiseBinarySolver solver = PairwiseBinarySolver::kAuto;
  // Wall-clock limit on CBC's search, in seconds (> 0; infinity = none). Other solvers ignore it.
  double time_limit_seconds = std::numeric_limits<double>::infinity();
};

struct PairwiseBinaryResult {
  PairwiseBinaryStatus status = PairwiseBinaryStatus::kOptimal;
  std::vector<uint8_t> z;  // size n, each 0 or 1; empty when kNotSupermodular
  double score = 0;        // score(z), recomputed from z; 0 when kNotSupermodular
};

// The largest n max_pairwise_binary_by_enumeration accepts.
constexpr int64_t kMaxPairwiseBinaryEnumeration = 20;

// score(z) for z of size n (entries 0 or 1). O(n^2); no input checks.
double pairwise_binary_score(const double* h, const double* a, int64_t n, const uint8_t* z);

// Max-flow MAP. Returns status kNotSupermodular (and no z) when some a_ij < 0, i < j.
PairwiseBinaryResult max_pairwise_binary_by_max_flow(const double* h, const double* a, int64_t n);

// Integer-programming MAP by CBC, silent. status kOptimal, kTimeLimit or kSolverError; z always
// holds a solution. time_limit_seconds must be > 0 (infinity = no limit).
PairwiseBinaryResult max_pairwise_binary_by_integer_program(
    const double* h, const double* a, int64_t n,
    double time_limit_seconds = std::numeric_limits<double>::infinity());

// Brute-force MAP; n > kMaxPairwiseBinaryEnumeration throws std::invalid_argument.
PairwiseBinaryResult max_pairwise_binary_by_enumeration(const double* h, const double* a, int64_t n);

// MAP by the solver options.solver names, chosen from n and the signs of a under kAuto. Forcing
// kMaxFlow on an instance with a negative a_ij gives status kNotSupermodular.
PairwiseBinaryResult max_pairwise_binary(const double* h, const double* a, int64_t n,
                                         const PairwiseBinaryOptions& options = {});

}  // namespace structgrad::solvers
