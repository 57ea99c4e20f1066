#include "structgrad/solvers/capped_simplex.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace structgrad::solvers {

double project_onto_capped_simplex(const double* z, int64_t n, int64_t k, double* x) {
  std::vector<double> sorted(z, z + n);
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  if (k == 0) {
    std::fill(x, x + n, 0.0);
    return sorted.front();
  }
  if (k == n) {
    std::fill(x, x + n, 1.0);
    return sorted.back() - 1;
  }
  // Items [0, saturated) sit at 1 and [saturated, entered) are free, at the current breakpoint
  // b where s(b) = s; the next breakpoint is the larger of the next item's z (it enters) and
  // the next free item's z - 1 (it saturates). s reaches n > k by the last breakpoint, so the
  // scan stops on a segment.
  int64_t entered = 0, saturated = 0;
  double b = sorted.front(), s = 0, t = 0;
  while (saturated < n) {
    const bool enters = entered < n && sorted[entered] >= sorted[saturated] - 1;
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

}  // namespace structgrad::solvers
