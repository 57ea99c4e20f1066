#include "structgrad/structures/topk.h"

#include "structgrad/core/check.h"
#include "structgrad/ops/ksubset.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/recursive_algorithms.h"
#include "structgrad/structures/gibbs.h"
#include "structgrad/structures/operators.h"
#include "structgrad/structures/recursive.h"
#include "structgrad/structures/relaxation.h"
#include "structgrad/structures/support.h"

namespace structgrad::topk {
namespace {

void check_theta(const char* function, const at::Tensor& theta, int64_t k, const char* name = "theta") {
  check::logits(function, name, theta, 1);
  check::finite(function, name, theta);
  check::in_range(function, "k", k, 0, theta.size(-1));
}

bool has_smooth_threshold(const std::string& regularizer) {
  return regularizer == "categorical_entropy" || regularizer == "binary_entropy";
}

// relax_perturbed of checked scores: the options' checks, then the regularized argmax.
at::Tensor relax_scores(const char* function, const at::Tensor& perturbed, int64_t k, const RelaxOptions& options) {
  const std::string regularizer = or_default(options.regularizer, "exponential_family");
  const std::string backward = or_default(options.backward, "custom");
  check::positive(function, "tau", options.tau);
  TORCH_CHECK_VALUE(regularizer == "exponential_family" || regularizer == "euclidean" ||
                        has_smooth_threshold(regularizer),
                    function, ": regularizer must be \"exponential_family\", \"euclidean\", ",
                    "\"categorical_entropy\" or \"binary_entropy\", got \"", regularizer, "\"");
  TORCH_CHECK_VALUE(backward != "unroll" || has_smooth_threshold(regularizer), function,
                    ": backward must be \"custom\" or \"finite_difference\" for regularizer \"", regularizer,
                    "\", got \"unroll\" (it has no smooth threshold equation to unroll Newton steps on; \"unroll\" ",
                    "is for \"categorical_entropy\" and \"binary_entropy\")");
  auto solve = [k, regularizer](const at::Tensor& z) {
    return regularizer == "exponential_family" ? ops::ksubset_marginals(z, k) : ops::regularized_topk(z, k, regularizer);
  };
  ops::RegularizedArgmax unrolled;
  if (has_smooth_threshold(regularizer))
    unrolled = [k, regularizer](const at::Tensor& z) { return ops::regularized_topk_unrolled(z, k, regularizer); };
  return regularized_argmax(function, perturbed / options.tau, 1, backward, solve, unrolled);
}

at::Tensor indicator_of_top(const at::Tensor& scores, int64_t k) {
  at::Tensor x = at::zeros_like(scores);
  if (k == 0) return x;
  return x.scatter_(-1, std::get<1>(scores.topk(k, -1)), 1.0);
}

recursive::KeySpace key_space(int64_t n, int64_t k) {
  recursive::KeySpace space;
  space.structure_shape = {n};
  space.factory = [n, k] { return std::make_unique<solvers::SelectionRecursion>(n, k, false); };
  return space;
}

recursive::TraceVerbs verbs(int64_t k) {
  return {"topk", [k](const char* function, const at::Tensor& theta) { check_theta(function, theta, k); },
          [k](const at::Tensor& theta) { return key_space(theta.size(-1), k); }};
}

}  // namespace

at::Tensor map(const at::Tensor& theta, int64_t k) {
  check_theta("topk.map", theta, k);
  return indicator_of_top(theta, k);
}

at::Tensor sample(const at::Tensor& theta, int64_t k, GeneratorOpt generator) {
  check_theta("topk.sample", theta, k);
  return indicator_of_top(theta + gumbel_noise(theta.sizes(), theta.options(), generator), k);
}

at::Tensor relax(const at::Tensor& theta, int64_t k, double tau, const std::string& regularizer, bool hard,
                 GeneratorOpt generator, const std::string& backward) {
  const RelaxOptions options{tau, regularizer, hard, explicit_backward("topk.relax", backward)};
  return family(k).relax(theta, options, generator);
}

at::Tensor relax_perturbed(const at::Tensor& perturbed, int64_t k, double tau, const std::string& regularizer,
                           const std::string& backward) {
  const RelaxOptions options{tau, regularizer, false, explicit_backward("topk.relax_perturbed", backward)};
  return family(k).relax_perturbed(perturbed, options);
}

at::Tensor log_partition(const at::Tensor& theta, int64_t k) {
  check_theta("topk.log_partition", theta, k);
  return ops::ksubset_log_partition(theta, k);
}

at::Tensor marginals(const at::Tensor& theta, int64_t k) {
  check_theta("topk.marginals", theta, k);
  return ops::ksubset_marginals(theta, k);
}

at::Tensor gibbs_sample(const at::Tensor& theta, int64_t k, GeneratorOpt generator) {
  const char* function = "topk.gibbs_sample";
  check_theta(function, theta, k);
  const int64_t n = theta.size(-1);
  auto sample = [n, k](const double* scores, solvers::RandomStream& random, double* x) {
    solvers::gibbs_ksubset(scores, n, k, random, x);
    return std::string();
  };
  return gibbs::sample_each(function, theta, 1, sample, generator);
}

at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x, int64_t k) {
  check_theta("topk.log_prob", theta, k);
  TORCH_CHECK_VALUE(k <= 8, "topk.log_prob: the exact subset probability sums over k! orders; k must be at "
                    "most 8, got ", k);
  TORCH_CHECK_VALUE(x.dim() >= 1 && x.size(-1) == theta.size(-1), "topk.log_prob: x must end in ",
                    theta.size(-1), " items, got shape ", check::shape_string(x.sizes()));
  check_indicators("topk.log_prob", x);
  TORCH_CHECK_VALUE((x.sum(-1) == k).all().item<bool>(), "topk.log_prob: every row of x must have k = ", k, " ones");
  const auto batch_shape = x.sizes().slice(0, x.dim() - 1);
  if (k == 0) return at::zeros(batch_shape, theta.options());
  // The subset's items, in any order: the sum over the k! orders in which they can be drawn.
  at::Tensor members = std::get<1>(x.topk(k, -1));
  return recursive::unordered_log_prob("topk.log_prob", theta, members, key_space(theta.size(-1), k));
}

at::Tensor enumerate(int64_t n, int64_t k, const at::TensorOptions& options) {
  TORCH_CHECK_VALUE(n >= 1 && k >= 0 && k <= n, "topk.enumerate: need n >= 1 and 0 <= k <= n, got n = ", n,
                    ", k = ", k);
  check_enumeration_count("topk.enumerate", subsets_count(n, k), "C(n, k)");
  auto subsets = solvers::k_subsets(n, k);
  at::Tensor out = at::zeros({int64_t(subsets.size()), n}, options);
  for (size_t s = 0; s < subsets.size(); ++s)
    for (int64_t i : subsets[s]) out[s][i] = 1;
  return out;
}

Trace trace(const at::Tensor& theta, int64_t k, GeneratorOpt generator) { return verbs(k).trace(theta, generator); }

at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace, int64_t k) {
  return verbs(k).trace_log_prob(theta, trace);
}

at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, int64_t k, GeneratorOpt generator) {
  return verbs(k).conditional_gumbel(theta, trace, generator);
}

Family family(int64_t k) {
  Family f;
  f.name = "topk";
  f.event_dim = 1;
  f.check = [k](const char* function, const at::Tensor& theta) { check_theta(function, theta, k); };
  f.map = [k](const at::Tensor& theta) { return map(theta, k); };
  f.sample = [k](const at::Tensor& theta, GeneratorOpt g) { return sample(theta, k, g); };
  f.relax_scores = [k](const char* function, const at::Tensor& perturbed, const RelaxOptions& o) {
    return relax_scores(function, perturbed, k, o);
  };
  f.enumerate = [k](const at::Tensor& theta) { return enumerate(theta.size(-1), k, theta.options()); };
  f.log_prob = [k](const at::Tensor& theta, const at::Tensor& x) { return log_prob(theta, x, k); };
  f.log_partition = [k](const at::Tensor& theta) { return log_partition(theta, k); };
  f.marginals = [k](const at::Tensor& theta) { return marginals(theta, k); };
  f.mean = f.marginals;
  f.gibbs_sample = [k](const at::Tensor& theta, GeneratorOpt g) { return gibbs_sample(theta, k, g); };
  f.support = [k](const at::Tensor& x) { return x.sum(-1) == k; };
  verbs(k).install(f);
  return f;
}

TORCH_LIBRARY_FRAGMENT(structgrad, library) {
  FamilyOperators(library, "topk")
      .def("map(Tensor theta, int k) -> Tensor", &map, "The k highest-scoring items.")
      .def("sample(Tensor theta, int k, Generator? generator=None) -> Tensor", &sample,
           "Gumbel top-k: map(theta + G), i.e. k items drawn without replacement with probabilities ∝ exp(theta).")
      .def("relax(Tensor theta, int k, float tau, str regularizer=\"exponential_family\", bool hard=False, "
           "Generator? generator=None, str backward=\"custom\") -> Tensor",
           &relax,
           "The stochastic softmax trick over k-subsets: regularized argmax of (theta + G) / tau over "
           "{x in [0,1]^n, sum x = k}.\n\n"
           "regularizer: \"exponential_family\" (seed 000's E.F. entropy top-k: the marginals of "
           "p(S) ∝ exp(<z, x_S>), O(nk) DP), \"euclidean\" (projection, exact by one sort), "
           "\"categorical_entropy\", \"binary_entropy\". All have hand-written backward. hard=True: the exact "
           "sample forward, the relaxed gradient backward. backward=\"custom\" is the hand-written backward, "
           "\"finite_difference\" two more solver calls along the incoming gradient (the Jacobian is symmetric); "
           "\"unroll\", for the two entropies only (their threshold solves a smooth equation; the DP has none, and "
           "the projection's is piecewise linear), is autograd through Newton steps on the threshold started from "
           "the root: the same gradient to rounding.")
      .def("relax_perturbed(Tensor perturbed, int k, float tau, str regularizer=\"exponential_family\", "
           "str backward=\"custom\") -> Tensor",
           &relax_perturbed, "``relax`` on given perturbed scores (no noise drawn), e.g. from ``conditional_gumbel``.")
      .def("log_partition(Tensor theta, int k) -> Tensor", &log_partition,
           "log sum over k-subsets of exp(sum of their scores): (*batch).")
      .def("marginals(Tensor theta, int k) -> Tensor", &marginals,
           "P(i in S) under p(S) ∝ exp(sum_{i in S} theta_i): (*batch, n).")
      .def("gibbs_sample(Tensor theta, int k, Generator? generator=None) -> Tensor", &gibbs_sample,
           "An exact sample of p(S) ∝ exp(sum_{i in S} theta_i) over k-subsets (not Gumbel top-k's law, which is "
           "``sample``'s): backward sampling through the O(nk) dynamic program, (*batch, n).")
      .def_gibbs_verbs<&family>(", int k")
      .def("log_prob(Tensor theta, Tensor x, int k) -> Tensor", &log_prob,
           "log P(sample(theta, k) == x) under Gumbel top-k (sum over the k! draw orders; k <= 8).")
      .def("enumerate(int n, int k, ScalarType? dtype=None) -> Tensor",
           [](int64_t n, int64_t k, c10::optional<at::ScalarType> dtype) {
             return enumerate(n, k, enumerate_options(dtype));
           },
           "Every k-subset of n items: (C(n, k), n).")
      .def("trace(Tensor theta, int k, Generator? generator=None) -> " STRUCTGRAD_TRACE_RETURNS,
           [](const at::Tensor& theta, int64_t k, GeneratorOpt g) { return trace_tuple(trace(theta, k, g)); },
           "Recursive Gumbel-Max (seed 002 Alg. 1): the sample and its trace, the k items in the order drawn, "
           "(*batch, k). The same law as ``sample``.")
      .def("trace_log_prob(Tensor theta, Tensor trace, int k) -> Tensor", &trace_log_prob,
           "log P(trace), differentiable in theta: (*batch). Invalid traces raise ValueError.")
      .def("conditional_gumbel(Tensor theta, Tensor trace, int k, Generator? generator=None) -> Tensor",
           &conditional_gumbel,
           "theta + G = -log E given the trace (seed 002 App. B), reparameterized: (*batch, n).");
}

}  // namespace structgrad::topk
