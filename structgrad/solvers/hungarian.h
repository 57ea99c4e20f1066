// The linear assignment problem: a permutation sigma of {0, ..., n-1} maximizing
// sum_i weights[i][sigma(i)], for a dense n x n weight matrix (row-major). Entries equal to
// -infinity are forbidden pairs.
//
// Algorithm: the Hungarian method in its shortest-augmenting-path form, LAPJV (Jonker and
// Volgenant 1987): column reduction seeds column prices and a partial matching; on fully
// finite instances reduction transfer and augmenting row reduction match most remaining rows
// in O(n) each; every row still free is matched along a Dijkstra shortest path in reduced
// costs, a dense one (a pass over every column per step). The scans run four columns at a
// time on a padded copy of the costs. O(n^3) time worst case, O(n^2) extra memory. Plain
// C++, no torch.
//
//   std::vector<double> w = {...};                        // n * n scores
//   auto result = structgrad::solvers::max_weight_assignment(w.data(), n);
//   if (result.status == structgrad::solvers::AssignmentStatus::kOptimal)
//     use(result.column_of_row);                          // row i -> column column_of_row[i]
//
// Many instances in a row: one AssignmentSolver per thread reuses its buffers.
//   structgrad::solvers::AssignmentSolver solver;
//   for (...) status = solver.solve(w + b * n * n, n, columns + b * n);
#pragma once

#include <cstdint>
#include <vector>

namespace structgrad::solvers {

enum class AssignmentStatus {
  kOptimal,     // column_of_row is a maximum-weight perfect matching
  kInfeasible,  // the allowed (finite-weight) pairs admit no perfect matching
};

struct Assignment {
  AssignmentStatus status = AssignmentStatus::kInfeasible;
  std::vector<int64_t> column_of_row;  // size n when optimal, empty otherwise
  double score = 0;                    // sum_i weights[i][column_of_row[i]]
};

// weights: n * n finite values or -infinity (forbidden); NaN and +infinity are the caller's
// responsibility. n = 0 gives the empty assignment.
Assignment max_weight_assignment(const double* weights, int64_t n);

// The same solver, writing row i's column to column_of_row[i] (n entries, written only when
// optimal), with buffers kept from one instance to the next.
class AssignmentSolver {
 public:
  AssignmentStatus solve(const double* weights, int64_t n, int64_t* column_of_row);

 private:
  // The costs -weights, rows padded to a multiple of the vector width with +inf (a column
  // that nothing can take); column prices v (every reduced cost cost(i, j) - v_j - u_i stays
  // >= 0, u implicit); a row's reduced costs; the shortest-path search's state per column.
  std::vector<double> cost_, price_, reduced_, distance_, barrier_;
  std::vector<int64_t> row_of_column_, cheapest_row_, matches_, predecessor_, free_rows_, pending_, scanned_;
};

}  // namespace structgrad::solvers
