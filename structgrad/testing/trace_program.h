// Helpers for the GoogleTest suites of the recursion layer only (not part of the installed API),
// plain C++ without torch so that the solvers' tests build on their own: a trace program's
// log-probability and the chi-square test of sampled frequencies.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "structgrad/solvers/recursion.h"

namespace structgrad::testing {

// Log-probability of a replayed trace from its program: the sum over groups of
// theta[chosen] - logsumexp(theta[members]) (seed 002, Alg. 3), in plain doubles.
inline double program_log_prob(const solvers::TraceProgram& p, const std::vector<double>& theta) {
  double total = 0;
  for (int64_t g = 0; g < p.num_groups(); ++g) {
    double top = -INFINITY;
    p.for_each_member(g, [&](int64_t key) { top = std::max(top, theta[key]); });
    double sum = 0;
    p.for_each_member(g, [&](int64_t key) { sum += std::exp(theta[key] - top); });
    total += theta[p.chosen[g]] - top - std::log(sum);
  }
  return total;
}

// The standard normal's upper quantile z (P(Z > z) = alpha), by bisection on erfc: 200 halvings
// of [-40, 40] reach double precision.
inline double normal_upper_quantile(double alpha) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (0.5 * std::erfc(mid / std::sqrt(2.0)) > alpha ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// Upper critical value of the chi-square distribution with `df` degrees of freedom at level
// alpha (Wilson-Hilferty, as testing.h's chi_square_critical, which needs torch; within 1.5% for
// df >= 4 at alpha = 1e-3, on the conservative side).
inline double plain_chi_square_critical(int64_t df, double alpha) {
  const double z = normal_upper_quantile(alpha);
  const double a = 2.0 / (9.0 * double(df));
  return double(df) * std::pow(1 - a + z * std::sqrt(a), 3);
}

// Pearson's statistic of observed counts against expected probabilities (same length).
inline double plain_chi_square_statistic(const std::vector<int64_t>& counts, const std::vector<double>& probabilities) {
  double total = 0;
  for (int64_t c : counts) total += double(c);
  double statistic = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = probabilities[i] * total;
    statistic += (double(counts[i]) - expected) * (double(counts[i]) - expected) / expected;
  }
  return statistic;
}

}  // namespace structgrad::testing
