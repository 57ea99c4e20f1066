#include "structgrad/structures/permutation.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "structgrad/ops/check.h"
#include "structgrad/ops/sinkhorn.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/hungarian.h"

namespace structgrad::permutation {
namespace {

void check_square(const char* function, const at::Tensor& theta) {
  check::logits(function, "theta", theta, 2);
  TORCH_CHECK_VALUE(theta.size(-1) == theta.size(-2), function, ": theta must be square (*batch, n, n), got shape ",
                    check::shape_string(theta.sizes()));
}

// map's input: -inf marks a forbidden pair, +inf has no meaning.
void check_scores(const char* function, const at::Tensor& theta) {
  check_square(function, theta);
  // One max reduction, no boolean temporary: on a batch of 256 50 x 50 instances the
  // comparison cost a tenth of the Hungarian solves.
  TORCH_CHECK_VALUE(theta.max().item<double>() != std::numeric_limits<double>::infinity(), function,
                    ": theta must not contain +inf (-inf marks a forbidden pair)");
}

at::Tensor assignment_indicator(const char* function, const at::Tensor& scores) {
  at::Tensor weights = scores.detach().to(at::kDouble).contiguous();
  const int64_t n = weights.size(-1), count = weights.numel() / (n * n);
  at::Tensor columns = at::empty({count, n}, at::kLong);
  const double* w = weights.data_ptr<double>();
  int64_t* column = columns.data_ptr<int64_t>();
  // Errors cannot leave the parallel loop; infeasible instances are reported after it.
  std::vector<char> solved(count, 0);
  at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const auto result = solvers::max_weight_assignment(w + b * n * n, n);
      if (result.status != solvers::AssignmentStatus::kOptimal) continue;
      std::copy(result.column_of_row.begin(), result.column_of_row.end(), column + b * n);
      solved[b] = 1;
    }
  });
  const int64_t first_unsolved = std::find(solved.begin(), solved.end(), 0) - solved.begin();
  TORCH_CHECK_VALUE(first_unsolved == count, function, ": the finite entries of theta admit no perfect matching ",
                    "(instance ", first_unsolved, " of the flattened batch)");
  return at::zeros(weights.sizes(), scores.options())
      .view({count, n, n})
      .scatter_(-1, columns.unsqueeze(-1), 1.0)
      .view(scores.sizes());
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
