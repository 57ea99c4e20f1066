// Reads a libFuzzer input as a small weight matrix, for the solver targets in this folder.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <limits>
#include <vector>

namespace structgrad::fuzz {

// Byte 0 gives n in [1, max_n], byte 1 a power-of-two scale 2^(s % scales - scales / 2), byte 2 a
// spare parameter (a root); every further byte one weight: 0 is -inf (an absent edge), any other
// value b gives (b - 128) * scale, so that small alphabets make ties and the scale reaches
// magnitudes where sums lose precision. Weights past the input's end repeat it cyclically.
struct Instance {
  int64_t n = 0;
  int64_t spare = 0;
  double largest = 0;  // the largest finite magnitude
  std::vector<double> w;
};

inline bool read_instance(const uint8_t* data, size_t size, int64_t max_n, int scales, bool symmetric, Instance& out) {
  if (size < 4) return false;
  out.n = 1 + data[0] % max_n;
  const double scale = std::ldexp(1.0, int(data[1] % scales) - scales / 2);
  out.spare = data[2];
  const uint8_t* bytes = data + 3;
  const size_t count = size - 3;
  const int64_t n = out.n;
  out.w.assign(n * n, -std::numeric_limits<double>::infinity());
  out.largest = 0;
  size_t k = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = symmetric ? i + 1 : 0; j < n; ++j) {
      if (i == j) continue;
      const uint8_t b = bytes[k++ % count];
      const double value = b == 0 ? -std::numeric_limits<double>::infinity() : (double(b) - 128) * scale;
      out.w[i * n + j] = value;
      if (symmetric) out.w[j * n + i] = value;
      if (std::isfinite(value)) out.largest = std::max(out.largest, std::abs(value));
    }
  return true;
}

// A finding: prints what differs and aborts, which libFuzzer records as a crash with its input.
[[noreturn]] inline void fail(const char* what, double ours, double reference) {
  std::fprintf(stderr, "fuzz finding: %s: ours %.17g, reference %.17g\n", what, ours, reference);
  std::abort();
}

// The optimum's checks: the solution's own sum `found` equals the enumeration's `best` and the
// solver's `reported` sum, up to the rounding of n sums of the instance's magnitudes.
inline void check_optimum(const Instance& in, const char* what, double found, double reported, double best) {
  const double tolerance = 1e-12 * (in.largest + 128) * double(in.n);
  if (std::abs(found - best) > tolerance) fail(what, found, best);
  if (std::abs(reported - found) > tolerance) fail("reported sum", reported, found);
}

}  // namespace structgrad::fuzz
