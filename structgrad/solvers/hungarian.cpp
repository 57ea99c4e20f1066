#include "structgrad/solvers/hungarian.h"

#include <algorithm>
#include <limits>

namespace structgrad::solvers {

Assignment max_weight_assignment(const double* weights, int64_t n) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Assignment result;
  // Minimizes cost = -weight. Rows and columns are 1-based; column 0 is the root of each
  // shortest-path tree and row 0 means "free".
  auto cost = [&](int64_t i, int64_t j) { return -weights[(i - 1) * n + (j - 1)]; };
  std::vector<double> u(n + 1, 0.0), v(n + 1, 0.0), min_reduced(n + 1);
  std::vector<int64_t> row_of_column(n + 1, 0), column_of_row(n + 1, 0), previous_column(n + 1);
  std::vector<char> visited(n + 1);

  // Column reduction: v_j = min_i cost(i, j) keeps every reduced cost >= 0 and makes each
  // column's cheapest pair tight, so on dense random scores most rows start matched.
  bool all_finite = true;
  std::vector<int64_t> matches(n + 1, 0);
  for (int64_t j = 1; j <= n; ++j) {
    int64_t best = 1;
    for (int64_t i = 1; i <= n; ++i) {
      all_finite = all_finite && cost(i, j) != kInf;
      if (cost(i, j) < cost(best, j)) best = i;
    }
    if (cost(best, j) == kInf) return result;
    v[j] = cost(best, j);
    if (matches[best]++ == 0) {
      column_of_row[best] = j;
      row_of_column[j] = best;
    }
  }
  // Jonker-Volgenant's reduction transfer and augmenting row reduction assign most of the
  // remaining rows in O(n) each instead of a shortest-path search. Both keep the invariant
  // that a matched row's column minimizes cost(i, j) - v_j, i.e. dual feasibility. Their
  // price updates are differences of second-smallest reduced costs, which -inf entries
  // would make infinite, so they run on fully finite instances only.
  if (all_finite && n > 1) {
    auto two_smallest = [&](int64_t i, double& smallest, int64_t& at, double& second, int64_t& second_at) {
      smallest = second = kInf;
      at = second_at = 0;
      for (int64_t j = 1; j <= n; ++j) {
        const double h = cost(i, j) - v[j];
        if (h < second) {
          if (h >= smallest) {
            second = h;
            second_at = j;
          } else {
            second = smallest;
            second_at = at;
            smallest = h;
            at = j;
          }
        }
      }
    };
    std::vector<int64_t> free_rows, pending;
    for (int64_t i = 1; i <= n; ++i) {
      if (matches[i] == 0) {
        free_rows.push_back(i);
      } else if (matches[i] == 1) {
        const int64_t j1 = column_of_row[i];
        double smallest = kInf;
        for (int64_t j = 1; j <= n; ++j)
          if (j != j1) smallest = std::min(smallest, cost(i, j) - v[j]);
        v[j1] -= smallest;
      }
    }
    // Rows evicted by a strict price drop are retried at once; the budget bounds the cycling
    // that rounding can cause when the drops become tiny.
    int64_t budget = 4 * n * n;
    for (int pass = 0; pass < 2; ++pass) {
      pending.swap(free_rows);
      free_rows.clear();
      size_t k = 0;
      while (k < pending.size()) {
        const int64_t i = pending[k++];
        double smallest, second;
        int64_t j1, j2;
        two_smallest(i, smallest, j1, second, j2);
        int64_t evicted = row_of_column[j1];
        const bool strict = smallest < second;
        if (strict) {
          v[j1] -= second - smallest;
        } else if (evicted != 0) {
          j1 = j2;
          evicted = row_of_column[j2];
        }
        column_of_row[i] = j1;
        row_of_column[j1] = i;
        if (evicted == 0) continue;
        column_of_row[evicted] = 0;
        if (strict && budget-- > 0) {
          pending[--k] = evicted;
        } else {
          free_rows.push_back(evicted);
        }
      }
    }
  }
  for (int64_t i = 1; i <= n; ++i)
    if (column_of_row[i] != 0) u[i] = cost(i, column_of_row[i]) - v[column_of_row[i]];

  for (int64_t row = 1; row <= n; ++row) {
    if (column_of_row[row] != 0) continue;
    // Dijkstra over columns in reduced costs, from `row` (hung under the virtual column 0).
    row_of_column[0] = row;
    int64_t column = 0;
    std::fill(min_reduced.begin(), min_reduced.end(), kInf);
    std::fill(visited.begin(), visited.end(), 0);
    do {
      visited[column] = 1;
      const int64_t i = row_of_column[column];
      double delta = kInf;
      int64_t next = 0;
      for (int64_t j = 1; j <= n; ++j) {
        if (visited[j]) continue;
        const double reduced = cost(i, j) - u[i] - v[j];
        if (reduced < min_reduced[j]) {
          min_reduced[j] = reduced;
          previous_column[j] = column;
        }
        if (min_reduced[j] < delta) {
          delta = min_reduced[j];
          next = j;
        }
      }
      if (delta == kInf) return result;  // no free column reachable through allowed pairs
      for (int64_t j = 0; j <= n; ++j) {
        if (visited[j]) {
          u[row_of_column[j]] += delta;
          v[j] -= delta;
        } else {
          min_reduced[j] -= delta;
        }
      }
      column = next;
    } while (row_of_column[column] != 0);
    // Augment: shift every row on the path one column along it.
    do {
      const int64_t previous = previous_column[column];
      row_of_column[column] = row_of_column[previous];
      column = previous;
    } while (column != 0);
    for (int64_t j = 1; j <= n; ++j) column_of_row[row_of_column[j]] = j;
  }

  result.status = AssignmentStatus::kOptimal;
  result.column_of_row.resize(n);
  for (int64_t j = 1; j <= n; ++j) {
    const int64_t i = row_of_column[j];
    result.column_of_row[i - 1] = j - 1;
    result.score += weights[(i - 1) * n + (j - 1)];
  }
  return result;
}

}  // namespace structgrad::solvers
