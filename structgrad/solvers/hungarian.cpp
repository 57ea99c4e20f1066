#include "structgrad/solvers/hungarian.h"

#include <algorithm>
#include <limits>

namespace structgrad::solvers {

Assignment max_weight_assignment(const double* weights, int64_t n) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Assignment result;
  // Minimizes cost = -weight. Rows and columns are 1-based so that 0 means "free".
  auto cost = [&](int64_t i, int64_t j) { return -weights[(i - 1) * n + (j - 1)]; };
  std::vector<double> v(n + 1, 0.0);
  std::vector<int64_t> row_of_column(n + 1, 0), column_of_row(n + 1, 0);

  // Column reduction: v_j = min_i cost(i, j) keeps every reduced cost >= 0 and makes each
  // column's cheapest pair tight, so on dense random scores most rows start matched. Rows are
  // the outer loop (contiguous reads, one running minimum per column), and the minima are
  // selected without branches, which would mispredict about ln n times per column.
  std::vector<int64_t> best(n + 1, 1);
  for (int64_t j = 1; j <= n; ++j) v[j] = cost(1, j);
  for (int64_t i = 2; i <= n; ++i)
    for (int64_t j = 1; j <= n; ++j) {
      const double c = cost(i, j);
      best[j] = c < v[j] ? i : best[j];
      v[j] = c < v[j] ? c : v[j];
    }
  std::vector<int64_t> matches(n + 1, 0);
  for (int64_t j = 1; j <= n; ++j) {
    if (v[j] == kInf) return result;
    if (matches[best[j]]++ == 0) {
      column_of_row[best[j]] = j;
      row_of_column[j] = best[j];
    }
  }
  // Jonker-Volgenant's reduction transfer and augmenting row reduction assign most of the
  // remaining rows in O(n) each instead of a shortest-path search. Both keep the invariant
  // that a matched row's column minimizes cost(i, j) - v_j, i.e. dual feasibility. Their
  // price updates are differences of second-smallest reduced costs, which -inf entries
  // would make infinite, so they run on fully finite instances only.
  bool all_finite = true;
  for (int64_t k = 0; k < n * n; ++k) all_finite &= weights[k] != -kInf;
  if (all_finite && n > 1) {
    auto two_smallest = [&](int64_t i, double& smallest, int64_t& at, double& second, int64_t& second_at) {
      smallest = second = kInf;
      at = second_at = 0;
      // Branch-free: the running two smallest of a random row change about 2 ln n times, each
      // change a mispredicted branch otherwise.
      for (int64_t j = 1; j <= n; ++j) {
        const double h = cost(i, j) - v[j];
        const bool first = h < smallest, second_only = h < second;
        second_at = first ? at : second_only ? j : second_at;
        second = first ? smallest : second_only ? h : second;
        at = first ? j : at;
        smallest = first ? h : smallest;
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
    int64_t budget = n;
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
  // Each remaining free row: Dijkstra over columns in reduced costs cost(i, j) - v_j - u_i,
  // with u_i = cost(i, column_of_row[i]) - v[column_of_row[i]] implicit. Columns are split
  // in collist into ready [0, low), to scan [low, up) (at the current minimum distance) and
  // the rest; the scan stops at the first free column at minimum distance.
  std::vector<double> distance(n + 1);
  std::vector<int64_t> columns(n), predecessor(n + 1);
  for (int64_t free_row = 1; free_row <= n; ++free_row) {
    if (column_of_row[free_row] != 0) continue;
    for (int64_t j = 1; j <= n; ++j) {
      distance[j] = cost(free_row, j) - v[j];
      predecessor[j] = free_row;
      columns[j - 1] = j;
    }
    int64_t low = 0, up = 0, last_ready = -1, end_of_path = 0;
    double minimum = 0;
    while (end_of_path == 0) {
      if (up == low) {
        last_ready = low - 1;
        minimum = distance[columns[up++]];
        for (int64_t k = up; k < n; ++k) {
          const int64_t j = columns[k];
          if (distance[j] <= minimum) {
            if (distance[j] < minimum) {
              up = low;
              minimum = distance[j];
            }
            columns[k] = columns[up];
            columns[up++] = j;
          }
        }
        if (minimum == kInf) return result;  // no free column reachable through allowed pairs
        for (int64_t k = low; k < up && end_of_path == 0; ++k)
          if (row_of_column[columns[k]] == 0) end_of_path = columns[k];
      }
      if (end_of_path != 0) break;
      const int64_t j1 = columns[low++];
      const int64_t i = row_of_column[j1];
      const double offset = cost(i, j1) - v[j1] - minimum;
      for (int64_t k = up; k < n; ++k) {
        const int64_t j = columns[k];
        const double through_i = cost(i, j) - v[j] - offset;
        if (through_i < distance[j]) {
          distance[j] = through_i;
          predecessor[j] = i;
          if (through_i == minimum) {
            if (row_of_column[j] == 0) {
              end_of_path = j;
              break;
            }
            columns[k] = columns[up];
            columns[up++] = j;
          }
        }
      }
    }
    for (int64_t k = 0; k <= last_ready; ++k) v[columns[k]] += distance[columns[k]] - minimum;
    // Augment: every row on the path takes the next column along it.
    int64_t i = 0;
    do {
      i = predecessor[end_of_path];
      row_of_column[end_of_path] = i;
      std::swap(end_of_path, column_of_row[i]);
    } while (i != free_row);
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
