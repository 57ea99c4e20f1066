#include "structgrad/structures/permutation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "structgrad/core/check.h"
#include "structgrad/ops/sinkhorn.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/hungarian.h"
#include "structgrad/structures/operators.h"

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

// The family with Gumbel-Sinkhorn's iteration budget fixed.
Family sinkhorn_family(int64_t iterations, double tolerance) {
  Family f;
  f.name = "permutation";
  f.event_dim = 2;
  f.check = check_scores;
  f.map = map;
  f.sample = sample;
  f.relax_scores = [iterations, tolerance](const char* function, const at::Tensor& perturbed, const RelaxOptions& o) {
    // -inf (a forbidden pair) has no relaxation: Sinkhorn needs finite scores.
    check::finite(function, "theta", perturbed);
    check::positive(function, "tau", o.tau);
    check_only_regularizer(function, o.regularizer, "entropy");
    const std::string backward = or_default(o.backward, "implicit");
    TORCH_CHECK_VALUE(backward == "implicit" || backward == "unroll" || backward == "finite_difference", function,
                      ": backward must be \"implicit\", \"unroll\" or \"finite_difference\", got \"", backward, "\"");
    return ops::sinkhorn(perturbed / o.tau, iterations, tolerance, backward);
  };
  f.enumerate = enumerate_by_size(enumerate);
  f.mean = [](const at::Tensor& theta) { return ops::sinkhorn(theta); };
  return f;
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
  const RelaxOptions options{tau, "", hard, explicit_backward("permutation.relax", backward)};
  return sinkhorn_family(iterations, tolerance).relax(theta, options, generator);
}

at::Tensor sinkhorn(const at::Tensor& z, int64_t iterations, double tolerance, const std::string& backward) {
  return ops::sinkhorn(z, iterations, tolerance, backward);
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

Family family() { return sinkhorn_family(20, 0); }

TORCH_LIBRARY_FRAGMENT(structgrad, library) {
  FamilyOperators(library, "permutation")
      .def("map(Tensor theta) -> Tensor", &map,
           "The highest-scoring permutation (Hungarian / Jonker-Volgenant, O(n^3) per instance).")
      .def("sample(Tensor theta, Generator? generator=None) -> Tensor", &sample,
           "Perturb-and-MAP: map(theta + G) with one Gumbel per entry. Not the Gibbs distribution.")
      .def("relax(Tensor theta, float tau, int iterations=20, float tolerance=0., str backward=\"implicit\", "
           "bool hard=False, Generator? generator=None) -> Tensor",
           &relax,
           "Gumbel-Sinkhorn: ``sinkhorn((theta + G) / tau, iterations, tolerance, backward)``, a doubly-stochastic "
           "(*batch, n, n) matrix, with the same noise as ``sample`` for the same generator state.\n\n"
           "backward=\"implicit\" (default) differentiates the Sinkhorn fixed point: memory independent of "
           "``iterations``, exact once the forward has converged. backward=\"unroll\" is the exact gradient of the "
           "truncated forward. backward=\"finite_difference\" runs the forward twice more along the incoming "
           "gradient, exact (to the difference's error) once converged. hard=True: the exact sample forward, the "
           "relaxed gradient backward.")
      .def("sinkhorn(Tensor z, int iterations=20, float tolerance=0., str backward=\"implicit\") -> Tensor",
           &sinkhorn,
           "Log-domain Sinkhorn of (*batch, n, n) scores, no noise: the entropy-regularized assignment "
           "argmax_P <z, P> - sum P log P over doubly-stochastic P. An instance stops early once its row sums are "
           "within ``tolerance`` of 1 (0: always ``iterations``).")
      .def("enumerate(int n, ScalarType? dtype=None) -> Tensor",
           [](int64_t n, c10::optional<at::ScalarType> dtype) { return enumerate(n, enumerate_options(dtype)); },
           "Every n x n permutation matrix: (n!, n, n), 1 <= n <= 8.");
}

}  // namespace structgrad::permutation
