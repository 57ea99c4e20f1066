#include "structgrad/structures/pairwise_binary.h"

#include <atomic>

#include "structgrad/core/check.h"
#include "structgrad/solvers/pairwise_binary.h"
#include "structgrad/structures/graph.h"
#include "structgrad/structures/operators.h"

namespace structgrad::pairwise_binary {

void check_potentials(const char* function, const at::Tensor& h, const at::Tensor& a) {
  check::logits(function, "h", h, 1);
  check::finite(function, "h", h);
  graph::check_weights(function, a, /*symmetric=*/true, "a");
  check::finite(function, "a", a.masked_fill(at::eye(a.size(-1), a.options().dtype(at::kBool)), 0));
  std::vector<int64_t> expected(h.sizes().begin(), h.sizes().end());
  expected.push_back(h.size(-1));
  TORCH_CHECK_VALUE(a.sizes() == at::IntArrayRef(expected), function, ": a must have shape (*batch, n, n) = ",
                    check::shape_string(expected), " for h of shape ", check::shape_string(h.sizes()), ", got ",
                    check::shape_string(a.sizes()));
}

namespace {

Perturbed perturbed(const at::Tensor& h, const at::Tensor& a, bool pairwise_noise, GeneratorOpt generator) {
  at::Tensor unary_noise = logistic_noise(h.sizes(), h.options(), generator);
  if (!pairwise_noise) return {h + unary_noise, a};
  at::Tensor upper = logistic_noise(a.sizes(), a.options(), generator).triu(1);
  return {h + unary_noise, a + upper + upper.transpose(-1, -2)};
}

solvers::PairwiseBinarySolver solver_of(const char* function, const MapOptions& options) {
  if (options.solver == "auto") return solvers::PairwiseBinarySolver::kAuto;
  if (options.solver == "max_flow") return solvers::PairwiseBinarySolver::kMaxFlow;
  if (options.solver == "integer_program") return solvers::PairwiseBinarySolver::kIntegerProgram;
  if (options.solver == "enumeration") return solvers::PairwiseBinarySolver::kEnumeration;
  TORCH_CHECK_VALUE(false, function, ": solver must be \"auto\", \"max_flow\", \"integer_program\" or \"enumeration\", ",
                    "got \"", options.solver, "\"");
}

MapResult solve(const char* function, const at::Tensor& h, const at::Tensor& a, const MapOptions& options) {
  const solvers::PairwiseBinarySolver solver = solver_of(function, options);
  TORCH_CHECK_VALUE(options.time_limit_seconds > 0, function, ": time_limit_seconds must be positive, got ",
                    options.time_limit_seconds);
  const int64_t n = h.size(-1);
  if (solver == solvers::PairwiseBinarySolver::kEnumeration)
    TORCH_CHECK_VALUE(n <= solvers::kMaxPairwiseBinaryEnumeration, function, ": solver \"enumeration\" needs n <= ",
                      solvers::kMaxPairwiseBinaryEnumeration, ", got ", n);
  at::Tensor unaries = h.detach().to(at::kDouble).contiguous().reshape({-1, n});
  at::Tensor pairs = a.detach().to(at::kDouble).contiguous().reshape({-1, n * n});
  const int64_t instances = unaries.size(0);
  at::Tensor z = at::zeros({instances, n}, at::kDouble);
  at::Tensor status = at::zeros({instances}, at::kLong);
  std::atomic<bool> not_supermodular{false};
  solvers::PairwiseBinaryOptions solver_options{solver, options.time_limit_seconds};
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      auto result = solvers::max_pairwise_binary(unaries.data_ptr<double>() + b * n, pairs.data_ptr<double>() + b * n * n,
                                                 n, solver_options);
      if (result.status == solvers::PairwiseBinaryStatus::kNotSupermodular) {
        not_supermodular = true;
        continue;
      }
      for (int64_t i = 0; i < n; ++i) z.data_ptr<double>()[b * n + i] = result.z[i];
      status.data_ptr<int64_t>()[b] = result.status == solvers::PairwiseBinaryStatus::kOptimal     ? 0
                                      : result.status == solvers::PairwiseBinaryStatus::kTimeLimit ? 1
                                                                                                   : 2;
    }
  });
  TORCH_CHECK_VALUE(!not_supermodular, function,
                    ": solver \"max_flow\" needs a supermodular score (every a_ij >= 0), but a has a negative entry");
  return {z.reshape(h.sizes()).to(h.scalar_type()), status.reshape(h.sizes().slice(0, h.dim() - 1))};
}

}  // namespace

MapResult map_with_status(const at::Tensor& h, const at::Tensor& a, const MapOptions& options) {
  check_potentials("pairwise_binary.map_with_status", h, a);
  return solve("pairwise_binary.map_with_status", h, a, options);
}

at::Tensor map(const at::Tensor& h, const at::Tensor& a, const MapOptions& options) {
  check_potentials("pairwise_binary.map", h, a);
  MapResult result = solve("pairwise_binary.map", h, a, options);
  TORCH_CHECK_VALUE(!(result.status == 1).any().item<bool>(), "pairwise_binary.map: CBC reached the time limit of ",
                    options.time_limit_seconds, " s before proving optimality (map_with_status returns its best solution)");
  TORCH_CHECK_VALUE(!(result.status == 2).any().item<bool>(), "pairwise_binary.map: CBC failed on an instance");
  return result.z;
}

Perturbed perturb(const at::Tensor& h, const at::Tensor& a, bool pairwise_noise, GeneratorOpt generator) {
  check_potentials("pairwise_binary.perturb", h, a);
  return perturbed(h, a, pairwise_noise, generator);
}

at::Tensor sample(const at::Tensor& h, const at::Tensor& a, bool pairwise_noise, GeneratorOpt generator,
                  const MapOptions& options) {
  check_potentials("pairwise_binary.sample", h, a);
  Perturbed p = perturbed(h, a, pairwise_noise, generator);
  MapResult result = solve("pairwise_binary.sample", p.h, p.a, options);
  TORCH_CHECK_VALUE(!(result.status != 0).any().item<bool>(), "pairwise_binary.sample: CBC did not reach optimality ",
                    "within the time limit of ", options.time_limit_seconds, " s on some instance");
  return result.z;
}

at::Tensor score(const at::Tensor& h, const at::Tensor& a, const at::Tensor& z) {
  check_potentials("pairwise_binary.score", h, a);
  TORCH_CHECK_VALUE(z.dim() >= 1 && z.size(-1) == h.size(-1), "pairwise_binary.score: z must end in n = ", h.size(-1));
  check::no_nan("pairwise_binary.score", "z", z);
  at::Tensor zt = z.to(h.scalar_type());
  // z^T triu(a) z as a batched vector-matrix product: (*, *batch, n) memory, not (*, *batch, n, n),
  // so that scoring all 2^n states of a batch stays affordable.
  at::Tensor pairs = (at::matmul(zt.unsqueeze(-2), a.triu(1)).squeeze(-2) * zt).sum(-1);
  return (zt * h).sum(-1) + pairs;
}

at::Tensor enumerate(int64_t n, const at::TensorOptions& options) {
  TORCH_CHECK_VALUE(n >= 1 && n <= 16, "pairwise_binary.enumerate: n must be in [1, 16], got ", n);
  at::Tensor codes = at::arange(int64_t(1) << n, at::kLong).unsqueeze(-1);
  at::Tensor bits = at::arange(n, at::kLong);
  return codes.bitwise_right_shift(bits).bitwise_and(1).to(options.dtype());
}

at::Tensor log_partition(const at::Tensor& h, const at::Tensor& a) {
  check_potentials("pairwise_binary.log_partition", h, a);
  at::Tensor all = enumerate(h.size(-1), h.options());  // (2^n, n)
  std::vector<int64_t> view{all.size(0)};
  for (int64_t d = 0; d + 1 < h.dim(); ++d) view.push_back(1);
  view.push_back(h.size(-1));
  return at::logsumexp(score(h, a, all.reshape(view)), 0);
}

namespace {

MapOptions map_options(const std::string& solver, c10::optional<double> time_limit) {
  MapOptions options;
  options.solver = solver;
  if (time_limit) options.time_limit_seconds = *time_limit;
  return options;
}

std::tuple<at::Tensor, at::Tensor> map_with_status_tuple(const at::Tensor& h, const at::Tensor& a,
                                                          const std::string& solver,
                                                          c10::optional<double> time_limit) {
  MapResult result = map_with_status(h, a, map_options(solver, time_limit));
  return {result.z, result.status};
}

}  // namespace

// The verbs as torch operators, like the Family values' (structures/operators.h), so that
// structgrad.pairwise_binary is made from them as the other family modules are.
TORCH_LIBRARY_FRAGMENT(structgrad, library) {
  FamilyOperators(library, "pairwise_binary",
                  "The pairwise-binary family (seed 003 §4.1): z in {0,1}^n with score(z) = sum_i h_i z_i + "
                  "sum_{i<j} a_ij z_i z_j, the structured encoder of direct optimization.\n\nh is (*batch, n); a is "
                  "(*batch, n, n) symmetric (the diagonal ignored). ``solver``: \"auto\" (enumeration for n <= 16, "
                  "max-flow when every a_ij >= 0, CBC otherwise), \"max_flow\" (supermodular only), "
                  "\"integer_program\" (CBC, with ``time_limit`` in seconds per instance, None: 60 s, inf: no limit; at the limit "
                  "``map`` and ``sample`` raise, ``map_with_status`` returns CBC's best solution with status 1), \"enumeration\" "
                  "(n <= 20).")
      .def("map(Tensor h, Tensor a, str solver=\"auto\", float? time_limit=None) -> Tensor",
           [](const at::Tensor& h, const at::Tensor& a, const std::string& solver, c10::optional<double> time_limit) {
             return map(h, a, map_options(solver, time_limit));
           },
           "The highest-scoring z, (*batch, n). ValueError when CBC hits the time limit (see map_with_status).")
      .def("map_with_status(Tensor h, Tensor a, str solver=\"auto\", float? time_limit=None) -> "
           "(Tensor z, Tensor status)",
           &map_with_status_tuple,
           "(z, status): status (*batch) is 0 optimal, 1 time limit (z: CBC's best), 2 solver error.")
      .def("sample(Tensor h, Tensor a, bool pairwise_noise=True, Generator? generator=None, str solver=\"auto\", "
           "float? time_limit=None) -> Tensor",
           [](const at::Tensor& h, const at::Tensor& a, bool pairwise_noise, GeneratorOpt generator,
              const std::string& solver, c10::optional<double> time_limit) {
             return sample(h, a, pairwise_noise, generator, map_options(solver, time_limit));
           },
           "Perturb-and-MAP: a Gumbel for each value of every unary choice and, with pairwise_noise, of every "
           "pairwise choice z_i z_j (which can make a_ij negative; without it a supermodular a stays so).")
      .def("perturb(Tensor h, Tensor a, bool pairwise_noise=True, Generator? generator=None) -> (Tensor h, Tensor a)",
           [](const at::Tensor& h, const at::Tensor& a, bool pairwise_noise, GeneratorOpt generator) {
             Perturbed p = perturb(h, a, pairwise_noise, generator);
             return std::make_tuple(p.h, p.a);
           },
           "(h + L, a + L'): the perturbation ``sample`` maximizes, a logistic per unary choice and, with "
           "pairwise_noise, one per pair (mirrored, so a + L' stays symmetric).")
      .def("score(Tensor h, Tensor a, Tensor z) -> Tensor", &score,
           "score(z) for z (*, *batch, n): (*, *batch), differentiable.")
      .def("log_partition(Tensor h, Tensor a) -> Tensor", &log_partition,
           "log sum_z exp(score(z)) by enumeration (n <= 16), differentiable: (*batch).")
      .def("enumerate(int n, ScalarType? dtype=None) -> Tensor",
           [](int64_t n, c10::optional<at::ScalarType> dtype) { return enumerate(n, enumerate_options(dtype)); },
           "Every z in {0,1}^n: (2^n, n).");
}

}  // namespace structgrad::pairwise_binary
