#include "structgrad/solvers/capped_simplex.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace structgrad::solvers {
namespace {

// The projection by bisection on nu in long double, run until the bracket is one ulp wide:
// slow and obviously correct.
std::vector<double> bisection_projection(const std::vector<double>& z, int64_t k) {
  auto total = [&](long double nu) {
    long double s = 0;
    for (double v : z) s += std::clamp((long double)v - nu, 0.0L, 1.0L);
    return s;
  };
  long double lo = *std::min_element(z.begin(), z.end()) - 1.0L, hi = *std::max_element(z.begin(), z.end());
  for (int iteration = 0; iteration < 10000; ++iteration) {
    const long double mid = (lo + hi) / 2;
    if (mid <= lo || mid >= hi) break;
    (total(mid) > k ? lo : hi) = mid;
  }
  const long double nu = (lo + hi) / 2;
  std::vector<double> x;
  for (double v : z) x.push_back(double(std::clamp((long double)v - nu, 0.0L, 1.0L)));
  return x;
}

double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// Random instances for body(z, k, tau): z = w / tau with w on a grid of quarters, so that items
// tie and breakpoints z_i - 1 and z_j coincide at tau = 1; tau = 1e-4 leaves few free items
// among |z| ~ 1e4, tau = 1e4 makes every item free. k is uniform in [0, n], or in [1, n - 1]
// with `interior`.
template <typename Body>
void for_tied_instances(uint64_t seed, bool interior, Body body) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  for (double tau : {1e-4, 1e-2, 1.0, 1e2, 1e4})
    for (int64_t n : {2, 5, 17, 64})
      for (int trial = 0; trial < 20; ++trial) {
        std::vector<double> z(n);
        for (double& v : z) v = std::round(4 * normal(rng)) / 4 / tau;
        body(z, std::uniform_int_distribution<int64_t>(interior ? 1 : 0, interior ? n - 1 : n)(rng), tau);
      }
}

TEST(CappedSimplex, MatchesLongDoubleBisectionWithTiesAndAnyTemperature) {
  double worst = 0;
  for_tied_instances(1, false, [&](const std::vector<double>& z, int64_t k, double tau) {
    const int64_t n = int64_t(z.size());
    std::vector<double> x(n);
    const double nu = project_onto_capped_simplex(z.data(), n, k, x.data());
    const double error = max_difference(x, bisection_projection(z, k));
    worst = std::max(worst, error);
    EXPECT_LT(error, 1e-12) << "tau " << tau << " n " << n << " k " << k;
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      sum += x[i];
      EXPECT_NEAR(x[i], std::clamp(z[i] - nu, 0.0, 1.0), 1e-12 * std::max(1.0, std::abs(nu)));
    }
    EXPECT_NEAR(sum, double(k), 1e-12 * n);
  });
  RecordProperty("max_error", (::testing::Message() << worst).GetString());
}

// One pass, no tolerance: dyadic inputs whose projection is dyadic come out exactly.
TEST(CappedSimplex, IsExactInOnePass) {
  const std::vector<double> z = {3, 2.25, 1.5, 0};
  std::vector<double> x(4);
  EXPECT_EQ(project_onto_capped_simplex(z.data(), 4, 2, x.data()), 1.375);
  EXPECT_EQ(x, (std::vector<double>{1, 0.875, 0.125, 0}));
  // Far from the origin the free items are still exact (z_i - b is exact there).
  std::vector<double> shifted;
  for (double v : z) shifted.push_back(v + 1e9);
  project_onto_capped_simplex(shifted.data(), 4, 2, x.data());
  EXPECT_EQ(x, (std::vector<double>{1, 0.875, 0.125, 0}));
  const std::vector<double> tied = {0.5, 0.5, 0.5, 0.5, -3};
  std::vector<double> y(5);
  project_onto_capped_simplex(tied.data(), 5, 2, y.data());
  EXPECT_EQ(y, (std::vector<double>{0.5, 0.5, 0.5, 0.5, 0}));
}

TEST(CappedSimplex, EmptyAndFullSubsets) {
  const std::vector<double> z = {0.3, -2, 7};
  std::vector<double> x(3);
  EXPECT_EQ(project_onto_capped_simplex(z.data(), 3, 0, x.data()), 7);
  EXPECT_EQ(x, (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(project_onto_capped_simplex(z.data(), 3, 3, x.data()), -3);
  EXPECT_EQ(x, (std::vector<double>{1, 1, 1}));
  // One item: k = 1 is the full subset.
  double one = 0;
  project_onto_capped_simplex(z.data(), 1, 1, &one);
  EXPECT_EQ(one, 1);
}

// x_i = h(z_i - nu) for the two entropies, in long double.
long double categorical_h(long double t) { return t >= 0 ? 1.0L : std::exp(t); }
long double binary_h(long double t) { return t >= 0 ? 1 / (1 + std::exp(-t)) : std::exp(t) / (1 + std::exp(t)); }

// The entropic threshold by long-double bisection to the last ulp: slow and obviously correct.
template <typename H>
long double bisection_threshold(const std::vector<double>& z, int64_t k, H h) {
  auto total = [&](long double nu) {
    long double s = 0;
    for (double v : z) s += h((long double)v - nu);
    return s;
  };
  const int64_t n = int64_t(z.size());
  long double lo = *std::min_element(z.begin(), z.end()) - 60.0L,
              hi = *std::max_element(z.begin(), z.end()) + 60.0L + std::log((long double)n);
  for (int iteration = 0; iteration < 20000; ++iteration) {
    const long double mid = (lo + hi) / 2;
    if (mid <= lo || mid >= hi) break;
    (total(mid) > k ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// Both entropic thresholds give the same x as long-double bisection, on tied grids and at
// every temperature: tau = 1e-4 saturates or zeroes almost every item, tau = 1e4 none.
TEST(CappedSimplex, EntropicThresholdsMatchLongDoubleBisection) {
  double worst = 0;
  for_tied_instances(2, true, [&](const std::vector<double>& z, int64_t k, double tau) {
    const int64_t n = int64_t(z.size());
    const double categorical = categorical_entropy_threshold(z.data(), n, k);
    const double binary = binary_entropy_threshold(z.data(), n, k);
    const long double categorical_reference = bisection_threshold(z, k, categorical_h);
    const long double binary_reference = bisection_threshold(z, k, binary_h);
    for (int64_t i = 0; i < n; ++i) {
      const double c = std::abs(
          double(categorical_h(z[i] - (long double)categorical) - categorical_h(z[i] - categorical_reference)));
      const double b = std::abs(double(binary_h(z[i] - (long double)binary) - binary_h(z[i] - binary_reference)));
      worst = std::max({worst, c, b});
      EXPECT_LT(c, 1e-12) << "categorical tau " << tau << " n " << n << " k " << k << " item " << i;
      EXPECT_LT(b, 1e-12) << "binary tau " << tau << " n " << n << " k " << k << " item " << i;
    }
  });
  RecordProperty("worst", std::to_string(worst));
}

}  // namespace
}  // namespace structgrad::solvers
