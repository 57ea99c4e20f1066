// Log-space arithmetic the dynamic programs share, plain C++.
#pragma once

#include <cmath>
#include <limits>
#include <utility>

namespace structgrad::core {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNegInf = -kInf;

// log(exp(a) + exp(b)), exact where either is -inf (no -inf - -inf).
inline double log_add(double a, double b) {
  if (a < b) std::swap(a, b);
  if (b == -std::numeric_limits<double>::infinity()) return a;
  return a + std::log1p(std::exp(b - a));
}

}  // namespace structgrad::core
