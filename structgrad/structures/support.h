// What the families share about the points they list and score: x must hold 0/1 indicators
// (anything else is a mistake, raised), a 0/1 point that is not a structure of the family has
// probability 0 (log-probability -inf, never a finite number), and an enumeration refuses before
// it starts one it could not finish.
#pragma once

#include <ATen/ATen.h>

#include <cmath>
#include <cstdint>
#include <limits>

namespace structgrad {

inline void check_indicators(const char* function, const at::Tensor& x) {
  TORCH_CHECK_VALUE(((x == 0) | (x == 1)).all().item<bool>(), function,
                    ": x must hold 0/1 structure indicators (NaN or other values found)");
}

// log_p where `member` (broadcast against it), -inf elsewhere.
inline at::Tensor outside_support_as_minus_infinity(const at::Tensor& log_p, const at::Tensor& member) {
  return log_p.masked_fill(member.logical_not(), -std::numeric_limits<double>::infinity());
}

// The most structures an enumerate builds (the other enumerators' size caps, n <= 8 permutations
// or n <= 16 binary vectors, stay below it).
inline constexpr double kEnumerationCap = 1 << 20;

// C(n, k), in floating point (no overflow), for the k-subset enumerators' check.
inline double subsets_count(int64_t n, int64_t k) {
  return std::exp(std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0));
}

inline void check_enumeration_count(const char* function, double count, const char* what) {
  TORCH_CHECK_VALUE(count <= kEnumerationCap * (1 + 1e-9), function, ": ", what, " = ", count,
                    " structures, above the cap of ", static_cast<int64_t>(kEnumerationCap),
                    " an enumeration may build");
}

}  // namespace structgrad
