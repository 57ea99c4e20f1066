// libFuzzer target: the Hungarian solver (LAPJV) against every permutation, n <= 7, with ties,
// forbidden pairs and magnitudes up to 127 x 2^31.
#include <cmath>

#include "fuzz/fuzz_input.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/hungarian.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace structgrad;
  fuzz::Instance in;
  if (!fuzz::read_instance(data, size, 7, 64, /*symmetric=*/false, in)) return 0;
  const int64_t n = in.n;
  for (int64_t i = 0; i < n; ++i) {  // the diagonal is an ordinary pair here (unscaled)
    const uint8_t b = data[3 + i % (size - 3)];
    in.w[i * n + i] = b == 0 ? -INFINITY : double(b) - 128;
  }
  double best = -INFINITY;
  static std::vector<std::vector<int64_t>> permutations_of[8];  // enumerated once per n
  if (permutations_of[n].empty()) permutations_of[n] = solvers::permutations(n);
  for (const auto& p : permutations_of[n]) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += in.w[i * n + p[i]];
    best = std::max(best, s);
  }
  const solvers::Assignment a = solvers::max_weight_assignment(in.w.data(), n);
  if (!std::isfinite(best)) {
    if (a.status != solvers::AssignmentStatus::kInfeasible) fuzz::fail("infeasible instance solved", a.score, best);
    return 0;
  }
  if (a.status != solvers::AssignmentStatus::kOptimal) fuzz::fail("feasible instance refused", 0, best);
  std::vector<int> used(n, 0);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = a.column_of_row[i];
    if (c < 0 || c >= n || used[c]++) fuzz::fail("not a permutation", double(c), double(i));
    s += in.w[i * n + c];
  }
  fuzz::check_optimum(in, "score of the assignment", s, a.score, best);
  return 0;
}
