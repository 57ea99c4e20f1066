#include "structgrad/structures/permutation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "structgrad/ops/check.h"
#include "structgrad/ops/sinkhorn.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/hungarian.h"

namespace structgrad::permutation {
namespace {

void check_square(const char* function, const at::Tensor& theta) {
  check::logits_shape(function, "theta", theta, 2);
  TORCH_CHECK_VALUE(theta.size(-1) == theta.size(-2), function, ": theta must be square (*batch, n, n), got shape ",
                    check::shape_string(theta.sizes()));
}

// map's input: -inf marks a forbidden pair, +inf has no meaning. One max reduction finds both
// NaN (max propagates it) and +inf: on a batch of 256 50 x 50 instances each pass over theta
// takes about 0.17 ms against 2.2 ms for the Hungarian solves, so one pass, not two.
void check_scores(const char* function, const at::Tensor& theta) {
  check_square(function, theta);
  const double largest = theta.max().item<double>();
  TORCH_CHECK_VALUE(!std::isnan(largest), function, ": theta contains NaN");
  TORCH_CHECK_VALUE(largest != std::numeric_limits<double>::infinity(), function,
                    ": theta must not contain +inf (-inf marks a forbidden pair)");
}

// The permutation matrices of the maximum-weight assignments, written instance by instance in
// the solver's loop (no index tensor, no scatter).
at::Tensor assignment_indicator(const char* function, const at::Tensor& scores) {
  at::Tensor weights = scores.detach().to(at::kDouble).contiguous();
  const int64_t n = weights.size(-1), count = weights.numel() / (n * n);
  at::Tensor indicator = at::empty(weights.sizes(), weights.options());
  const double* w = weights.data_ptr<double>();
  double* x = indicator.data_ptr<double>();
  // Errors cannot leave the parallel loop; infeasible instances are reported after it.
  std::vector<char> solved(count, 0);
  at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
    solvers::AssignmentSolver solver;
    std::vector<int64_t> column_of_row(n);
    for (int64_t b = begin; b < end; ++b) {
      double* instance = x + b * n * n;
      std::fill(instance, instance + n * n, 0.0);
      if (solver.solve(w + b * n * n, n, column_of_row.data()) != solvers::AssignmentStatus::kOptimal) continue;
      for (int64_t i = 0; i < n; ++i) instance[i * n + column_of_row[i]] = 1;
      solved[b] = 1;
    }
  });
  const int64_t first_unsolved = std::find(solved.begin(), solved.end(), 0) - solved.begin();
  TORCH_CHECK_VALUE(first_unsolved == count, function, ": the finite entries of theta admit no perfect matching ",
                    "(instance ", first_unsolved, " of the flattened batch)");
  return indicator.to(scores.scalar_type());
}

}  // namespace

at::Tensor map(const at::Tensor& theta) {
  check_scores("permutation.map", theta);
  return assignment_indicator("permutation.map", theta);
}

at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator) {
  check_scores("permutation.sample", theta);
  return assignment_indicator("permutation.sample",
                              theta + gumbel_noise(theta.sizes(), theta.options(), generator));
}

at::Tensor relax(const at::Tensor& theta, double tau, int64_t iterations, double tolerance,
                 const std::string& backward, bool hard, GeneratorOpt generator) {
  check_square("permutation.relax", theta);
  // NaN included.
  check::finite("permutation.relax", "theta", theta);
  check::positive("permutation.relax", "tau", tau);
  TORCH_CHECK_VALUE(backward == "implicit" || backward == "unroll" || backward == "finite_difference",
                    "permutation.relax: backward must be \"implicit\", \"unroll\" or \"finite_difference\", got \"",
                    backward, "\"");
  at::Tensor perturbed = theta + gumbel_noise(theta.sizes(), theta.options(), generator);
  at::Tensor soft = ops::sinkhorn(perturbed / tau, iterations, tolerance, backward);
  if (!hard) return soft;
  // (soft - soft) is exactly zero, so the forward is exactly the sample.
  return assignment_indicator("permutation.relax", perturbed) + (soft - soft.detach());
}

at::Tensor enumerate(int64_t n, const at::TensorOptions& options) {
  check::in_range("permutation.enumerate", "n", n, 1, 8);
  const auto all = solvers::permutations(n);
  at::Tensor out = at::zeros({int64_t(all.size()), n, n}, at::kDouble);
  double* data = out.data_ptr<double>();
  for (size_t s = 0; s < all.size(); ++s)
    for (int64_t i = 0; i < n; ++i) data[(int64_t(s) * n + i) * n + all[s][i]] = 1;
  return out.to(options);
}

const Family& family() {
  static const Family permutation_family = [] {
    Family f;
    f.name = "permutation";
    f.event_dim = 2;
    f.map = [](const at::Tensor& theta) { return map(theta); };
    f.sample = [](const at::Tensor& theta, GeneratorOpt g) { return sample(theta, g); };
    f.relax = [](const at::Tensor& theta, const RelaxOptions& o, GeneratorOpt g) {
      check_only_regularizer("permutation.relax", o.regularizer, "entropy");
      return relax(theta, o.tau, 20, 0, o.backward.empty() ? "implicit" : o.backward, o.hard, g);
    };
    f.enumerate = [](const at::Tensor& theta) { return enumerate(theta.size(-1), theta.options()); };
    f.mean = [](const at::Tensor& theta) { return ops::sinkhorn(theta); };
    return f;
  }();
  return permutation_family;
}

}  // namespace structgrad::permutation
