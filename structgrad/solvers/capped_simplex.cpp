#include "structgrad/solvers/capped_simplex.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace structgrad::solvers {

double project_onto_capped_simplex(const double* z, int64_t n, int64_t k, double* x) {
  if (k == 0) {
    std::fill(x, x + n, 0.0);
    return *std::max_element(z, z + n);
  }
  if (k == n) {
    std::fill(x, x + n, 1.0);
    return *std::min_element(z, z + n) - 1;
  }
  // nu >= z_(k) - 1 (below it the k largest would already sum to k, and more with any other
  // item above nu), so items at or below z_(k) - 1 stay at 0: only the others are sorted. That
  // is all of them at a high temperature, and a handful of the largest at a low one.
  std::vector<double> sorted(z, z + n);
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<>());
  const double floor = sorted[k - 1] - 1;
  sorted.erase(std::remove_if(sorted.begin(), sorted.end(), [floor](double v) { return v <= floor; }), sorted.end());
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const int64_t candidates = int64_t(sorted.size());
  if (candidates == k) {  // the k largest at 1, the rest at 0
    for (int64_t i = 0; i < n; ++i) x[i] = z[i] > floor ? 1.0 : 0.0;
    return floor;
  }
  // Items [0, saturated) sit at 1 and [saturated, entered) are free, at the current breakpoint
  // b where s(b) = s; the next breakpoint is the larger of the next item's z (it enters) and
  // the next free item's z - 1 (it saturates). s reaches candidates > k by the last breakpoint,
  // so the scan stops on a segment.
  int64_t entered = 0, saturated = 0;
  double b = sorted.front(), s = 0, t = 0;
  while (saturated < candidates) {
    const bool enters = entered < candidates && sorted[entered] >= sorted[saturated] - 1;
    const double next = enters ? sorted[entered] : sorted[saturated] - 1;
    const int64_t free = entered - saturated;
    const double s_next = s + double(free) * (b - next);
    // s < k <= s_next: s rose on this segment, so free > 0, and nu = b - t lies in [next, b].
    if (s_next >= double(k)) {
      t = (double(k) - s) / double(free);
      break;
    }
    s = s_next;
    b = next;
    ++(enters ? entered : saturated);
  }
  for (int64_t i = 0; i < n; ++i) x[i] = std::clamp((z[i] - b) + t, 0.0, 1.0);
  return b - t;
}

double categorical_entropy_threshold(const double* z, int64_t n, int64_t k) {
  std::vector<double> sorted(z, z + n);
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  // tail[m] = sum_{i >= m} exp(sorted[i] - sorted[m]): the tail's log-sum-exp is
  // sorted[m] + log(tail[m]), and every term is at most 1.
  std::vector<double> tail(n);
  tail[n - 1] = 1;
  for (int64_t m = n - 2; m >= 0; --m) tail[m] = 1 + tail[m + 1] * std::exp(sorted[m + 1] - sorted[m]);
  // With the first m saturated the threshold is nu_m; the first m whose free items all stay at
  // or below 1 is the answer (the earlier ones saturate too few and leave an item above 1). At
  // m = k - 1 the free items sum to 1, so none is above 1: the loop always returns.
  double nu = 0;
  for (int64_t m = 0; m < k; ++m) {
    nu = sorted[m] + std::log(tail[m]) - std::log(double(k - m));
    if (sorted[m] <= nu) return nu;
  }
  return nu;
}

double binary_entropy_threshold(const double* z, int64_t n, int64_t k) {
  auto sigmoid = [](double t) { return t >= 0 ? 1 / (1 + std::exp(-t)) : std::exp(t) / (1 + std::exp(t)); };
  const auto [min_it, max_it] = std::minmax_element(z, z + n);
  // s(lo) >= n sigmoid(40) > k and s(hi) <= n exp(-40) / n < k bracket the root.
  double lo = *min_it - 40, hi = *max_it + 40 + std::log(double(n));
  std::vector<double> sorted(z, z + n);
  std::nth_element(sorted.begin(), sorted.begin() + k, sorted.end(), std::greater<>());
  const double below = sorted[k], above = *std::min_element(sorted.begin(), sorted.begin() + k);
  double nu = 0.5 * (above + below);
  for (int iteration = 0; iteration < 200; ++iteration) {
    double s = 0, slope = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double p = sigmoid(z[i] - nu);
      s += p;
      slope += p * (1 - p);
    }
    if (s == double(k)) break;
    (s > double(k) ? lo : hi) = nu;
    const double newton = slope > 0 ? nu + (s - double(k)) / slope : lo - 1;
    const bool inside = newton > lo && newton < hi;
    const double next = inside ? newton : 0.5 * (lo + hi);
    const double step = std::abs(next - nu);
    nu = next;
    // Quadratic convergence: after a Newton step this small the error is far below the last
    // ulp. A bisection step says nothing of the error, unless the bracket is down to an ulp.
    if ((inside && step <= 1e-12 * std::max(1.0, std::abs(nu))) || next <= lo || next >= hi) break;
  }
  return nu;
}

void shift_by_kth_largest(const double* z, int64_t n, int64_t k, double* shifted) {
  std::copy(z, z + n, shifted);
  std::nth_element(shifted, shifted + (k - 1), shifted + n, std::greater<double>());
  const double pivot = shifted[k - 1];
  for (int64_t i = 0; i < n; ++i) shifted[i] = z[i] - pivot;
}

}  // namespace structgrad::solvers
