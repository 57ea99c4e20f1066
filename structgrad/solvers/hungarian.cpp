#include "structgrad/solvers/hungarian.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "structgrad/core/log_space.h"
#include "structgrad/core/vector_clones.h"

namespace structgrad::solvers {
namespace {

using core::kInf;

// The row scans are minimum reductions and conditional updates over the columns. Written as
// scalar loops, GCC turns their selects into branches (mispredicted about ln n times a scan)
// and will not vectorize a floating-point ?: reduction without -ffinite-math-only, which the
// infinite costs of forbidden pairs rule out; so they are written on GCC vector types, four
// columns at a time (AVX2 in the x86-64-v3 clone, pairs of SSE2 operations otherwise).
// The helpers pass vectors by value only among themselves, inside this file and inlined into
// the cloned solver, so the ABI note GCC gives for 32-byte vectors on the default target
// (-Wpsabi) concerns no call that crosses a boundary. (GCC gives it at the end of the file,
// so it is silenced for the whole file.)
#pragma GCC diagnostic ignored "-Wpsabi"
constexpr int64_t kWidth = 4;
using Doubles = double __attribute__((vector_size(kWidth * sizeof(double))));
using Longs = int64_t __attribute__((vector_size(kWidth * sizeof(int64_t))));

inline Doubles load(const double* p) {
  Doubles x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
inline Longs load(const int64_t* p) {
  Longs x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
inline void store(double* p, const Doubles& x) { std::memcpy(p, &x, sizeof x); }
inline void store(int64_t* p, const Longs& x) { std::memcpy(p, &x, sizeof x); }
inline Doubles broadcast(double x) { return Doubles{x, x, x, x}; }

inline double horizontal_min(const Doubles& x) { return std::min({x[0], x[1], x[2], x[3]}); }

// reduced[j] = cost[j] - price[j] over `stride` columns (a multiple of kWidth); returns the
// smallest.
inline double reduce_row(const double* cost, const double* price, double* reduced, int64_t stride) {
  Doubles smallest = broadcast(kInf);
  for (int64_t j = 0; j < stride; j += kWidth) {
    const Doubles h = load(cost + j) - load(price + j);
    store(reduced + j, h);
    smallest = h < smallest ? h : smallest;
  }
  return horizontal_min(smallest);
}

inline double minimum(const double* values, int64_t stride) {
  Doubles smallest = broadcast(kInf);
  for (int64_t j = 0; j < stride; j += kWidth) {
    const Doubles x = load(values + j);
    smallest = x < smallest ? x : smallest;
  }
  return horizontal_min(smallest);
}

// The first j with values[j] == value (one exists).
inline int64_t first_equal(const double* values, double value) {
  int64_t j = 0;
  while (values[j] != value) ++j;
  return j;
}

// Column reduction's step: where row `row` is cheaper than smallest[j], it becomes the
// column's cheapest row.
inline void take_cheaper(const double* cost, int64_t row, double* smallest, int64_t* cheapest_row, int64_t stride) {
  const Longs rows = Longs{row, row, row, row};
  for (int64_t j = 0; j < stride; j += kWidth) {
    const Doubles x = load(cost + j), so_far = load(smallest + j);
    const Longs cheaper = x < so_far;
    store(cheapest_row + j, cheaper ? rows : load(cheapest_row + j));
    store(smallest + j, cheaper ? x : so_far);
  }
}

// One step of the shortest-path search: relaxes every unscanned column through `row`, whose
// distance from the search's root is offset + its reduced cost, and returns the nearest
// unscanned column (-1 when none is reachable). barrier[j] is +inf for scanned columns and 0
// otherwise: a scanned column's distance is final (recomputing it could round below it), and
// the loop needs no branches.
inline int64_t relax_and_find_nearest(const double* cost, const double* price, double offset, const double* barrier,
                                      double* distance, int64_t* predecessor, int64_t row, int64_t stride) {
  const Doubles offsets = broadcast(offset);
  const Longs rows = Longs{row, row, row, row};
  Doubles nearest = broadcast(kInf);
  Longs at = Longs{-1, -1, -1, -1}, columns = Longs{0, 1, 2, 3};
  for (int64_t j = 0; j < stride; j += kWidth, columns += kWidth) {
    const Doubles through = load(cost + j) - load(price + j) - offsets, blocked = load(barrier + j);
    Doubles d = load(distance + j);
    const Longs closer = through + blocked < d;
    d = closer ? through : d;
    store(distance + j, d);
    store(predecessor + j, closer ? rows : load(predecessor + j));
    const Doubles key = d + blocked;
    const Longs nearer = key < nearest;
    nearest = nearer ? key : nearest;
    at = nearer ? columns : at;
  }
  int64_t best = 0;
  for (int64_t k = 1; k < kWidth; ++k)
    best = nearest[k] < nearest[best] || (nearest[k] == nearest[best] && at[k] < at[best]) ? k : best;
  return nearest[best] == kInf ? -1 : at[best];
}

}  // namespace

STRUCTGRAD_VECTOR_CLONES AssignmentStatus AssignmentSolver::solve(const double* weights, int64_t n,
                                                                   int64_t* column_of_row) {
  if (n == 0) return AssignmentStatus::kOptimal;
  // Minimizes cost = -weight. -1 means "free".
  const int64_t stride = (n + kWidth - 1) / kWidth * kWidth;
  cost_.resize(n * stride);
  bool all_finite = true;
  for (int64_t i = 0; i < n; ++i) {
    double* c = &cost_[i * stride];
    for (int64_t j = 0; j < n; ++j) {
      c[j] = -weights[i * n + j];
      all_finite &= c[j] != kInf;
    }
    std::fill(c + n, c + stride, kInf);
  }
  auto cost_row = [&](int64_t i) { return &cost_[i * stride]; };
  // Padding columns keep price 0, so that their reduced costs stay +inf (never NaN).
  price_.assign(stride, 0.0);
  reduced_.resize(stride);
  distance_.resize(stride);
  barrier_.resize(stride);
  predecessor_.resize(stride);
  row_of_column_.assign(n, -1);
  cheapest_row_.assign(stride, 0);
  matches_.assign(n, 0);
  double* v = price_.data();
  int64_t* row_of_column = row_of_column_.data();
  std::fill(column_of_row, column_of_row + n, -1);

  // Column reduction: v_j = min_i cost(i, j) keeps every reduced cost >= 0 and makes each
  // column's cheapest pair tight, so on dense random scores most rows start matched. Rows are
  // the outer loop: contiguous reads, and the columns' running minima are independent.
  int64_t* cheapest_row = cheapest_row_.data();
  std::copy(cost_row(0), cost_row(0) + n, v);
  for (int64_t i = 1; i < n; ++i) take_cheaper(cost_row(i), i, v, cheapest_row, stride);
  for (int64_t j = 0; j < n; ++j) {
    if (v[j] == kInf) return AssignmentStatus::kInfeasible;
    const int64_t i = cheapest_row[j];
    if (matches_[i]++ == 0) {
      column_of_row[i] = j;
      row_of_column[j] = i;
    }
  }
  std::fill(v + n, v + stride, 0.0);

  // Jonker-Volgenant's reduction transfer and augmenting row reduction assign most of the
  // remaining rows in O(n) each instead of a shortest-path search. Both keep the invariant
  // that a matched row's column minimizes cost(i, j) - v_j, i.e. dual feasibility. Their
  // price updates are differences of second-smallest reduced costs, which -inf entries
  // would make infinite, so they run on fully finite instances only.
  double* h = reduced_.data();
  free_rows_.clear();
  for (int64_t i = 0; i < n; ++i)
    if (matches_[i] == 0) free_rows_.push_back(i);
  if (all_finite && n > 1) {
    for (int64_t i = 0; i < n; ++i) {
      if (matches_[i] != 1) continue;
      const int64_t j1 = column_of_row[i];
      reduce_row(cost_row(i), v, h, stride);
      h[j1] = kInf;
      v[j1] -= minimum(h, stride);
    }
    // Rows evicted by a strict price drop are retried at once; the budget bounds the cycling
    // that rounding can cause when the drops become tiny.
    int64_t budget = n;
    for (int pass = 0; pass < 2; ++pass) {
      pending_.swap(free_rows_);
      free_rows_.clear();
      size_t k = 0;
      while (k < pending_.size()) {
        const int64_t i = pending_[k++];
        const double smallest = reduce_row(cost_row(i), v, h, stride);
        int64_t j1 = first_equal(h, smallest);
        h[j1] = kInf;
        const double second = minimum(h, stride);
        int64_t evicted = row_of_column[j1];
        const bool strict = smallest < second;
        if (strict) {
          v[j1] -= second - smallest;
        } else if (evicted != -1) {
          // A tie: take the other cheapest column, free or not, and leave the prices.
          j1 = first_equal(h, second);
          evicted = row_of_column[j1];
        }
        column_of_row[i] = j1;
        row_of_column[j1] = i;
        if (evicted == -1) continue;
        column_of_row[evicted] = -1;
        if (strict && budget-- > 0) {
          pending_[--k] = evicted;
        } else {
          free_rows_.push_back(evicted);
        }
      }
    }
  }

  // Each remaining free row: Dijkstra over columns in reduced costs cost(i, j) - v_j - u_i,
  // with u_i = cost(i, column_of_row[i]) - v[column_of_row[i]] implicit, one nearest column at
  // a time until the nearest is free. Each step is a branch-free pass over every column: at
  // the sizes this serves that is cheaper than keeping lists of the columns left to scan.
  double* distance = distance_.data();
  double* barrier = barrier_.data();
  int64_t* predecessor = predecessor_.data();
  for (const int64_t free_row : free_rows_) {
    std::fill(distance, distance + stride, kInf);
    std::fill(barrier, barrier + stride, 0.0);
    scanned_.clear();
    int64_t row = free_row, end_of_path = -1;
    double offset = 0, nearest = 0;
    while (end_of_path == -1) {
      const int64_t j = relax_and_find_nearest(cost_row(row), v, offset, barrier, distance, predecessor, row, stride);
      if (j == -1) return AssignmentStatus::kInfeasible;  // no free column reachable through allowed pairs
      nearest = distance[j];
      barrier[j] = kInf;
      scanned_.push_back(j);
      if (row_of_column[j] == -1) {
        end_of_path = j;
      } else {
        row = row_of_column[j];
        offset = cost_row(row)[j] - v[j] - nearest;
      }
    }
    for (const int64_t j : scanned_) v[j] += distance[j] - nearest;
    // Augment: every row on the path takes the next column along it.
    int64_t i = -1;
    do {
      i = predecessor[end_of_path];
      row_of_column[end_of_path] = i;
      std::swap(end_of_path, column_of_row[i]);
    } while (i != free_row);
  }
  return AssignmentStatus::kOptimal;
}

Assignment max_weight_assignment(const double* weights, int64_t n) {
  Assignment result;
  std::vector<int64_t> column_of_row(n);
  result.status = AssignmentSolver().solve(weights, n, column_of_row.data());
  if (result.status != AssignmentStatus::kOptimal) return result;
  for (int64_t i = 0; i < n; ++i) result.score += weights[i * n + column_of_row[i]];
  result.column_of_row = std::move(column_of_row);
  return result;
}

}  // namespace structgrad::solvers
