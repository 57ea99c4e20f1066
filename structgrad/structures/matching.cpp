#include "structgrad/structures/matching.h"

#include "structgrad/core/check.h"
#include "structgrad/ops/sinkhorn.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/recursive_algorithms.h"
#include "structgrad/structures/graph.h"
#include "structgrad/structures/operators.h"
#include "structgrad/structures/recursive.h"
#include "structgrad/structures/support.h"

namespace structgrad::matching {
namespace {

recursive::KeySpace key_space(int64_t n) {
  recursive::KeySpace space;
  space.event_dim = 2;
  space.structure_shape = {n, n};
  space.factory = [n] { return std::make_unique<solvers::MatchingRecursion>(n); };
  space.infeasible = "matching: the greedy matching reached a row with no admissible column";
  return space;
}

void check_theta(const char* function, const at::Tensor& theta) { graph::check_weights(function, theta, false); }

recursive::TraceVerbs verbs() {
  return {"matching", check_theta, [](const at::Tensor& theta) { return key_space(theta.size(-1)); }};
}

}  // namespace

at::Tensor map(const at::Tensor& theta) {
  check_theta("matching.map", theta);
  return recursive::run_on(theta, key_space(theta.size(-1)));
}

at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator) {
  check_theta("matching.sample", theta);
  return recursive::trace(theta, key_space(theta.size(-1)), generator).structure;
}

at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x) {
  check_theta("matching.log_prob", theta);
  const int64_t n = theta.size(-1);
  TORCH_CHECK_VALUE(x.dim() >= 2 && x.size(-1) == n && x.size(-2) == n, "matching.log_prob: x must end in (", n, ", ",
                    n, "), got ", check::shape_string(x.sizes()));
  check_indicators("matching.log_prob", x);
  TORCH_CHECK_VALUE((x.sum(-1) == 1).all().item<bool>() && (x.sum(-2) == 1).all().item<bool>(),
                    "matching.log_prob: x must be permutation matrices");
  // Row i's entry i * n + column: (*, n).
  at::Tensor parts = x.argmax(-1) + at::arange(n, x.options().dtype(at::kLong)) * n;
  return recursive::unordered_log_prob("matching.log_prob", theta, parts, key_space(n));
}

at::Tensor enumerate(int64_t n, const at::TensorOptions& options) {
  TORCH_CHECK_VALUE(n >= 1 && n <= 8, "matching.enumerate: n must be in [1, 8], got ", n);
  auto perms = solvers::permutations(n);
  at::Tensor out = at::zeros({int64_t(perms.size()), n, n}, options);
  for (size_t p = 0; p < perms.size(); ++p)
    for (int64_t i = 0; i < n; ++i) out[p][i][perms[p][i]] = 1;
  return out;
}

Trace trace(const at::Tensor& theta, GeneratorOpt generator) { return verbs().trace(theta, generator); }

at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace) {
  return verbs().trace_log_prob(theta, trace);
}

at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, GeneratorOpt generator) {
  return verbs().conditional_gumbel(theta, trace, generator);
}

Family family() {
  Family f;
  f.name = "matching";
  f.event_dim = 2;
  f.check = check_theta;
  f.map = map;
  f.sample = sample;
  f.enumerate = enumerate_by_size(enumerate);
  f.log_prob = log_prob;
  f.relax_scores = [](const char* function, const at::Tensor& perturbed, const RelaxOptions& o) {
    check::positive(function, "tau", o.tau);
    check_only_regularizer(function, o.regularizer, "sinkhorn");
    return ops::sinkhorn(perturbed / o.tau);
  };
  f.relaxes_map = false;
  verbs().install(f);
  return f;
}

TORCH_LIBRARY_FRAGMENT(structgrad, library) {
  FamilyOperators(library, "matching")
      .def("map(Tensor theta) -> Tensor", &map,
           "The greedy matching: n times the best entry whose row and column are free.")
      .def("sample(Tensor theta, Generator? generator=None) -> Tensor", &sample, "The greedy matching of theta + G.")
      .def("log_prob(Tensor theta, Tensor x) -> Tensor", &log_prob,
           "log P(sample == x): the sum over the n! orders of x's entries (n <= 8); (*, *batch).")
      .def("enumerate(int n, ScalarType? dtype=None) -> Tensor",
           [](int64_t n, c10::optional<at::ScalarType> dtype) { return enumerate(n, enumerate_options(dtype)); },
           "Every permutation matrix, (n!, n, n); n <= 8.")
      .def_trace_verbs<&trace, &trace_log_prob, &conditional_gumbel>(
          "The greedy recursion: the matching and its trace, the n entries i * n + j in the order picked.");
}

}  // namespace structgrad::matching
