// exp over arrays of shifted log-weights, in a form the compiler vectorizes: glibc's exp is a
// scalar call per entry, which was a tenth of the matrix-tree kernel's time. Accurate to a few
// units in the last place on [-708, 0], which is all the kernels feed it: log-weights shifted
// by their maximum, spread at most a few hundred.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

namespace structgrad::core {

// A double's bits and back (compiled to nothing, and vectorizable).
inline uint64_t bits_of(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
inline double double_of(uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// exp(x) for x in [-708, 0] (inputs below, -inf included, are clamped to -708: exp there is
// 3e-308). Range reduction x = k ln2 + r with |r| <= ln2 / 2 (Cody and Waite's two-part ln2,
// so that k ln2 is exact), exp(r) by its Taylor series to degree 13 (truncation below 1e-17
// relative), and 2^k written into the exponent bits. Every select is on integers: GCC does not
// if-convert floating-point comparisons under the default -ftrapping-math, and a branch stops
// the loop from vectorizing.
inline double exp_nonpositive(double x) {
  constexpr double kLog2e = 1.4426950408889634, kLn2Hi = 6.93147180369123816490e-01,
                   kLn2Lo = 1.90821492927058770002e-10;
  // Adding 1.5 * 2^52 rounds to an integer, which then sits in the low mantissa bits.
  constexpr double kRound = 6755399441055744.0;
  // Among non-positive doubles the bits, read as unsigned, grow with the magnitude.
  const uint64_t lowest = bits_of(-708.0);
  const uint64_t b = bits_of(x);
  x = double_of(b > lowest ? lowest : b);
  const double shifted = x * kLog2e + kRound;
  const double k = shifted - kRound;
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // The low bits of `shifted` hold k (two's complement, k >= -1022): 2^k has the biased
  // exponent k + 1023 and a zero mantissa.
  return p * double_of((bits_of(shifted) + 1023) << 52);
}

// x[k] = exp(x[k] - shift) over `length` entries, exactly 0 where x[k] is -inf; x - shift <= 0.
inline void exp_shifted_in_place(double* x, int64_t length, double shift) {
  const uint64_t minus_infinity = bits_of(-std::numeric_limits<double>::infinity());
  for (int64_t k = 0; k < length; ++k) {
    const uint64_t keep = bits_of(x[k]) == minus_infinity ? 0 : ~uint64_t(0);
    x[k] = double_of(bits_of(exp_nonpositive(x[k] - shift)) & keep);
  }
}

}  // namespace structgrad::core
