// Random dense weight matrices for the graph solvers' tests (test-only, no torch).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace structgrad::testing {

constexpr double kAbsent = -std::numeric_limits<double>::infinity();

// An n x n matrix: integer weights in [0, 4) (many ties) or normal ones, each edge absent with
// probability p_absent (one draw per edge, mirrored when `symmetric`); a NaN diagonal, which
// must not be read.
inline std::vector<double> random_weights(int64_t n, double p_absent, bool integer, bool symmetric,
                                          std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> small(0, 3);
  std::bernoulli_distribution absent(p_absent);
  std::vector<double> w(n * n, std::nan(""));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = symmetric ? i + 1 : 0; j < n; ++j) {
      if (i == j) continue;
      w[i * n + j] = absent(rng) ? kAbsent : integer ? small(rng) : normal(rng);
      if (symmetric) w[j * n + i] = w[i * n + j];
    }
  return w;
}

}  // namespace structgrad::testing
