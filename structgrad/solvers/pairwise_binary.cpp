#include "structgrad/solvers/pairwise_binary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include <Cbc_C_Interface.h>
// GCC 12 reports a false -Wmaybe-uninitialized inside Boost's edge iterator (a boost::optional);
// Clang neither reports it nor knows the flag.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/boykov_kolmogorov_max_flow.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace structgrad::solvers {
namespace {

// Up to this size enumeration takes about a millisecond (2^16 steps of O(n)), less than setting
// up a CBC model, and is exact whatever the signs of a.
constexpr int64_t kAutoEnumerationMax = 16;

void check_input(const char* caller, const double* h, const double* a, int64_t n) {
  const std::string prefix = std::string(caller) + ": ";
  if (n < 0) throw std::invalid_argument(prefix + "need n >= 0, got " + std::to_string(n));
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(h[i]))
      throw std::invalid_argument(prefix + "h[" + std::to_string(i) + "] is " + std::to_string(h[i]) +
                                  "; unaries must be finite");
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j)
      if (!std::isfinite(a[i * n + j]))
        throw std::invalid_argument(prefix + "a at (" + std::to_string(i) + ", " + std::to_string(j) + ") is " +
                                    std::to_string(a[i * n + j]) + "; pairwise weights must be finite");
}

bool is_supermodular(const double* a, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j)
      if (a[i * n + j] < 0) return false;
  return true;
}

PairwiseBinaryResult make_result(PairwiseBinaryStatus status, std::vector<uint8_t> z, const double* h,
                                 const double* a, int64_t n) {
  PairwiseBinaryResult result;
  result.status = status;
  result.score = pairwise_binary_score(h, a, n, z.data());
  result.z = std::move(z);
  return result;
}

// Flips z_k and keeps field_j = h_j + sum_{i != j} a_ij z_i current for every j: flipping z_k
// changes the score by (1 - 2 z_k) field_k.
void flip(const double* a, int64_t n, int64_t k, std::vector<uint8_t>& z, std::vector<double>& field) {
  const double sign = z[k] ? -1.0 : 1.0;
  z[k] ^= 1;
  for (int64_t j = 0; j < n; ++j)
    if (j != k) field[j] += sign * a[std::min(j, k) * n + std::max(j, k)];
}

// Single flips that raise the score, from z = 0, until none does (a local optimum; a few sweeps
// usually suffice): score >= 0. At most n sweeps, to bound the work by O(n^3).
std::vector<uint8_t> greedy_ascent(const double* h, const double* a, int64_t n) {
  std::vector<uint8_t> z(n, 0);
  std::vector<double> field(h, h + n);
  for (int64_t sweep = 0; sweep < n; ++sweep) {
    bool improved = false;
    for (int64_t k = 0; k < n; ++k)
      if ((z[k] ? -field[k] : field[k]) > 0) {
        flip(a, n, k, z, field);
        improved = true;
      }
    if (!improved) break;
  }
  return z;
}

using FlowTraits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
using FlowGraph = boost::adjacency_list<
    boost::vecS, boost::vecS, boost::directedS,
    boost::property<boost::vertex_color_t, boost::default_color_type,
                    boost::property<boost::vertex_distance_t, int64_t,
                                    boost::property<boost::vertex_predecessor_t, FlowTraits::edge_descriptor>>>,
    boost::property<boost::edge_capacity_t, double,
                    boost::property<boost::edge_residual_capacity_t, double,
                                    boost::property<boost::edge_reverse_t, FlowTraits::edge_descriptor>>>>;

// An edge u -> v of the given capacity with its zero-capacity reverse, as the max-flow needs.
void add_flow_edge(FlowGraph& graph, size_t u, size_t v, double capacity) {
  auto forward = boost::add_edge(u, v, graph).first;
  auto backward = boost::add_edge(v, u, graph).first;
  boost::put(boost::edge_capacity, graph, forward, capacity);
  boost::put(boost::edge_capacity, graph, backward, 0.0);
  boost::put(boost::edge_reverse, graph, forward, backward);
  boost::put(boost::edge_reverse, graph, backward, forward);
}

// Frees a CBC model on every exit path.
struct CbcModelDeleter {
  void operator()(Cbc_Model* model) const { Cbc_deleteModel(model); }
};

// CBC's standalone solver parses its parameters through process-wide state.
std::mutex cbc_mutex;

}  // namespace

double pairwise_binary_score(const double* h, const double* a, int64_t n, const uint8_t* z) {
  double score = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!z[i]) continue;
    score += h[i];
    for (int64_t j = i + 1; j < n; ++j)
      if (z[j]) score += a[i * n + j];
  }
  return score;
}

PairwiseBinaryResult max_pairwise_binary_by_max_flow(const double* h, const double* a, int64_t n) {
  check_input("max_pairwise_binary_by_max_flow", h, a, n);
  if (!is_supermodular(a, n)) {
    PairwiseBinaryResult refused;
    refused.status = PairwiseBinaryStatus::kNotSupermodular;
    return refused;
  }
  // Minimize E(z) = -score(z). z_i = 1 puts vertex i on the source side. With a_ij >= 0,
  // -a_ij z_i z_j = -a_ij z_i + a_ij z_i (1 - z_j): a unary on i plus the edge i -> j, cut when
  // z_i = 1 and z_j = 0. A unary u z_i is the edge i -> sink when u > 0 (cut when z_i = 1), and
  // u + |u| (1 - z_i), the edge source -> i, when u < 0 (cut when z_i = 0).
  const size_t source = n, sink = n + 1;
  FlowGraph graph(n + 2);
  std::vector<double> unary(n);
  for (int64_t i = 0; i < n; ++i) unary[i] = -h[i];
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      const double weight = a[i * n + j];
      if (weight == 0) continue;
      unary[i] -= weight;
      add_flow_edge(graph, i, j, weight);
    }
  for (int64_t i = 0; i < n; ++i) {
    if (unary[i] > 0) add_flow_edge(graph, i, sink, unary[i]);
    if (unary[i] < 0) add_flow_edge(graph, source, i, -unary[i]);
  }
  boost::boykov_kolmogorov_max_flow(graph, source, sink);
  // Black vertices form the source tree, the vertices the residual graph reaches from the
  // source: the source side of a minimum cut.
  std::vector<uint8_t> z(n);
  for (int64_t i = 0; i < n; ++i) z[i] = boost::get(boost::vertex_color, graph, i) == boost::black_color;
  return make_result(PairwiseBinaryStatus::kOptimal, std::move(z), h, a, n);
}

PairwiseBinaryResult max_pairwise_binary_by_integer_program(const double* h, const double* a, int64_t n,
                                                            double time_limit_seconds) {
  check_input("max_pairwise_binary_by_integer_program", h, a, n);
  if (!(time_limit_seconds > 0))
    throw std::invalid_argument("max_pairwise_binary_by_integer_program: time_limit_seconds must be > 0, got " +
                                std::to_string(time_limit_seconds));
  std::vector<uint8_t> start = greedy_ascent(h, a, n);

  // Columns: z_0 .. z_{n-1} (binary), then one y per nonzero a_ij (continuous in [0, 1]).
  // Rows as (column, coefficient) lists, each <= its right-hand side.
  std::vector<double> objective(h, h + n);
  std::vector<std::vector<std::pair<int, double>>> rows;
  std::vector<double> row_upper;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      const double weight = a[i * n + j];
      if (weight == 0) continue;
      const int y = int(objective.size());
      objective.push_back(weight);
      if (weight > 0) {
        rows.push_back({{y, 1.0}, {int(i), -1.0}});
        rows.push_back({{y, 1.0}, {int(j), -1.0}});
        row_upper.insert(row_upper.end(), {0.0, 0.0});
      } else {
        rows.push_back({{int(i), 1.0}, {int(j), 1.0}, {y, -1.0}});
        row_upper.push_back(1.0);
      }
    }
  // Without pairs the unaries decide alone, and the greedy start is z_i = [h_i > 0].
  if (rows.empty()) return make_result(PairwiseBinaryStatus::kOptimal, std::move(start), h, a, n);
  const int num_columns = int(objective.size()), num_rows = int(rows.size());
  // Compressed sparse columns, as Cbc_loadProblem takes them.
  std::vector<int> column_start(num_columns + 1, 0);
  for (const auto& row : rows)
    for (auto [column, coefficient] : row) ++column_start[column + 1];
  for (int c = 0; c < num_columns; ++c) column_start[c + 1] += column_start[c];
  std::vector<int> row_index(column_start.back());
  std::vector<double> value(column_start.back());
  std::vector<int> next(column_start.begin(), column_start.end() - 1);
  for (int r = 0; r < num_rows; ++r)
    for (auto [column, coefficient] : rows[r]) {
      row_index[next[column]] = r;
      value[next[column]++] = coefficient;
    }
  const std::vector<double> column_lower(num_columns, 0.0), column_upper(num_columns, 1.0);
  const std::vector<double> row_lower(num_rows, -std::numeric_limits<double>::infinity());

  std::lock_guard<std::mutex> lock(cbc_mutex);
  std::unique_ptr<Cbc_Model, CbcModelDeleter> model(Cbc_newModel());
  Cbc_loadProblem(model.get(), num_columns, num_rows, column_start.data(), row_index.data(), value.data(),
                  column_lower.data(), column_upper.data(), objective.data(), row_lower.data(), row_upper.data());
  for (int i = 0; i < n; ++i) Cbc_setInteger(model.get(), i);
  Cbc_setObjSense(model.get(), -1);
  Cbc_setLogLevel(model.get(), 0);
  Cbc_setParameter(model.get(), "log", "0");
  Cbc_setParameter(model.get(), "slog", "0");
  if (std::isfinite(time_limit_seconds)) {
    Cbc_setParameter(model.get(), "timeMode", "elapsed");
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.17g", time_limit_seconds);
    Cbc_setParameter(model.get(), "sec", seconds);
  }
  std::vector<int> start_columns;
  for (int i = 0; i < n; ++i)
    if (start[i]) start_columns.push_back(i);
  const std::vector<double> start_values(start_columns.size(), 1.0);
  Cbc_setMIPStartI(model.get(), int(start_columns.size()), start_columns.data(), start_values.data());
  Cbc_solve(model.get());

  PairwiseBinaryResult best = make_result(PairwiseBinaryStatus::kOptimal, std::move(start), h, a, n);
  if (const double* solution = Cbc_bestSolution(model.get())) {
    std::vector<uint8_t> z(n);
    for (int i = 0; i < n; ++i) z[i] = solution[i] > 0.5;
    PairwiseBinaryResult found = make_result(PairwiseBinaryStatus::kOptimal, std::move(z), h, a, n);
    if (found.score >= best.score) best = std::move(found);
  }
  if (Cbc_isProvenOptimal(model.get())) return best;
  best.status = Cbc_isSecondsLimitReached(model.get()) ? PairwiseBinaryStatus::kTimeLimit
                                                        : PairwiseBinaryStatus::kSolverError;
  return best;
}

PairwiseBinaryResult max_pairwise_binary_by_enumeration(const double* h, const double* a, int64_t n) {
  check_input("max_pairwise_binary_by_enumeration", h, a, n);
  if (n > kMaxPairwiseBinaryEnumeration)
    throw std::invalid_argument("max_pairwise_binary_by_enumeration: n = " + std::to_string(n) + " exceeds " +
                                std::to_string(kMaxPairwiseBinaryEnumeration) + " (2^n assignments)");
  std::vector<uint8_t> z(n, 0), best_z(n, 0);
  std::vector<double> field(h, h + n);
  double score = 0, best_score = 0;
  // Step s of the Gray code flips z_k, k the position of the lowest set bit of s.
  for (uint64_t step = 1; step < (uint64_t(1) << n); ++step) {
    const int64_t k = __builtin_ctzll(step);
    score += z[k] ? -field[k] : field[k];
    flip(a, n, k, z, field);
    if (score > best_score) {
      best_score = score;
      best_z = z;
    }
  }
  return make_result(PairwiseBinaryStatus::kOptimal, std::move(best_z), h, a, n);
}

PairwiseBinaryResult max_pairwise_binary(const double* h, const double* a, int64_t n,
                                         const PairwiseBinaryOptions& options) {
  if (!(options.time_limit_seconds > 0))
    throw std::invalid_argument("max_pairwise_binary: options.time_limit_seconds must be > 0, got " +
                                std::to_string(options.time_limit_seconds));
  switch (options.solver) {
    case PairwiseBinarySolver::kEnumeration:
      return max_pairwise_binary_by_enumeration(h, a, n);
    case PairwiseBinarySolver::kMaxFlow:
      return max_pairwise_binary_by_max_flow(h, a, n);
    case PairwiseBinarySolver::kIntegerProgram:
      return max_pairwise_binary_by_integer_program(h, a, n, options.time_limit_seconds);
    case PairwiseBinarySolver::kAuto:
      break;
  }
  check_input("max_pairwise_binary", h, a, n);
  if (n <= kAutoEnumerationMax) return max_pairwise_binary_by_enumeration(h, a, n);
  if (is_supermodular(a, n)) return max_pairwise_binary_by_max_flow(h, a, n);
  return max_pairwise_binary_by_integer_program(h, a, n, options.time_limit_seconds);
}

}  // namespace structgrad::solvers
