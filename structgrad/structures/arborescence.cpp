#include "structgrad/structures/arborescence.h"

#include "structgrad/core/check.h"
#include "structgrad/ops/matrix_tree.h"
#include "structgrad/solvers/arborescence.h"
#include "structgrad/solvers/cle_recursion.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/structures/gibbs.h"
#include "structgrad/structures/graph.h"
#include "structgrad/structures/operators.h"
#include "structgrad/structures/recursive.h"
#include "structgrad/structures/relaxation.h"

namespace structgrad::arborescence {
namespace {

void check_input(const char* function, const at::Tensor& theta, int64_t root) {
  graph::check_weights(function, theta, false);
  check::in_range(function, "root", root, 0, theta.size(-1) - 1);
}

at::Tensor maximum_arborescences(const at::Tensor& scores, int64_t root) {
  return graph::solve_each(
      scores,
      [root](const double* w, int64_t n, double* x) {
        auto best = solvers::max_arborescence(w, n, root);
        if (best.status != solvers::ArborescenceStatus::kOptimal) return false;
        for (int64_t v = 0; v < n; ++v)
          if (v != root) x[best.parent[v] * n + v] = 1;
        return true;
      },
      "arborescence: some vertex cannot be reached from the root (no spanning arborescence exists)");
}

}  // namespace

at::Tensor map(const at::Tensor& theta, int64_t root) {
  check_input("arborescence.map", theta, root);
  return maximum_arborescences(theta, root);
}

at::Tensor sample(const at::Tensor& theta, int64_t root, GeneratorOpt generator, const std::string& perturbation) {
  const char* function = "arborescence.sample";
  graph::check_perturbation(function, perturbation);
  check_input(function, theta, root);
  return maximum_arborescences(graph::perturb_edges(function, theta, false, perturbation, generator), root);
}

at::Tensor relax(const at::Tensor& theta, double tau, int64_t root, bool hard, GeneratorOpt generator,
                 const std::string& backward, const std::string& perturbation) {
  const RelaxOptions options{tau, "", hard, explicit_backward("arborescence.relax", backward)};
  graph::check_perturbation("arborescence.relax", perturbation);
  return family_with_perturbation(root, perturbation).relax(theta, options, generator);
}

at::Tensor relax_perturbed(const at::Tensor& perturbed, double tau, int64_t root, const std::string& backward) {
  const RelaxOptions options{tau, "", false, explicit_backward("arborescence.relax_perturbed", backward)};
  return family(root).relax_perturbed(perturbed, options);
}

at::Tensor gibbs_sample(const at::Tensor& theta, int64_t root, GeneratorOpt generator, const std::string& sampler) {
  const char* function = "arborescence.gibbs_sample";
  check_input(function, theta, root);
  return graph::gibbs_trees(function, theta, /*directed=*/true, root, gibbs::tree_sampler(function, sampler),
                            generator);
}

at::Tensor log_partition(const at::Tensor& theta, int64_t root) {
  check_input("arborescence.log_partition", theta, root);
  return ops::matrix_tree_log_partition(theta, /*directed=*/true, root);
}

at::Tensor marginals(const at::Tensor& theta, int64_t root) {
  check_input("arborescence.marginals", theta, root);
  return ops::matrix_tree_marginals(theta, /*directed=*/true, root);
}

at::Tensor enumerate(int64_t n, int64_t root, const at::TensorOptions& options) {
  TORCH_CHECK_VALUE(n >= 1 && n <= 7, "arborescence.enumerate: n must be in [1, 7], got ", n);
  check::in_range("arborescence.enumerate", "root", root, 0, n - 1);
  auto all = solvers::arborescences(n, root);
  at::Tensor out = at::zeros({int64_t(all.size()), n, n}, options);
  for (size_t a = 0; a < all.size(); ++a)
    for (int64_t v = 0; v < n; ++v)
      if (v != root) out[a][all[a][v]][v] = 1;
  return out;
}

namespace {

// Chu-Liu-Edmonds' keys: the edges i -> j, i != j, not into the root.
recursive::KeySpace key_space(int64_t n, int64_t root) {
  recursive::KeySpace space;
  space.event_dim = 2;
  space.structure_shape = {n, n};
  space.factory = [n, root] { return std::make_unique<solvers::ChuLiuEdmondsRecursion>(n, root); };
  space.present = [n, root](const at::Tensor& flat) {
    at::Tensor keys = ~at::eye(n, flat.options().dtype(at::kBool));
    keys.select(1, root).fill_(false);
    return keys.reshape({1, n * n}).expand_as(flat);
  };
  space.infeasible = "arborescence: some node cannot be reached from the root (no arborescence exists)";
  return space;
}

recursive::TraceVerbs verbs(int64_t root) {
  return {"arborescence", [root](const char* function, const at::Tensor& theta) { check_input(function, theta, root); },
          [root](const at::Tensor& theta) { return key_space(theta.size(-1), root); }};
}

}  // namespace

Trace trace(const at::Tensor& theta, int64_t root, GeneratorOpt generator) {
  return verbs(root).trace(theta, generator);
}

at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace, int64_t root) {
  return verbs(root).trace_log_prob(theta, trace);
}

at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, int64_t root, GeneratorOpt generator) {
  return verbs(root).conditional_gumbel(theta, trace, generator);
}

Family family(int64_t root) {
  Family f;
  f.name = "arborescence";
  f.event_dim = 2;
  f.check = [root](const char* function, const at::Tensor& theta) { check_input(function, theta, root); };
  f.map = [root](const at::Tensor& theta) { return map(theta, root); };
  f.sample = [root](const at::Tensor& theta, GeneratorOpt g) { return sample(theta, root, g); };
  f.relax_scores = [root](const char* function, const at::Tensor& perturbed, const RelaxOptions& o) {
    check::positive(function, "tau", o.tau);
    check_only_regularizer(function, o.regularizer, "exponential_family");
    auto solve = [root](const at::Tensor& z) { return ops::matrix_tree_marginals(z, /*directed=*/true, root); };
    return regularized_argmax(function, perturbed / o.tau, 2, or_default(o.backward, "custom"), solve);
  };
  f.enumerate = [root](const at::Tensor& theta) { return enumerate(theta.size(-1), root, theta.options()); };
  f.log_partition = [root](const at::Tensor& theta) { return log_partition(theta, root); };
  f.marginals = [root](const at::Tensor& theta) { return marginals(theta, root); };
  f.gibbs_sample = [root](const at::Tensor& theta, GeneratorOpt g) { return gibbs_sample(theta, root, g); };
  f.support = [root](const at::Tensor& x) { return graph::arborescences_among(x, root); };
  f.mean = f.marginals;
  verbs(root).install(f);
  return f;
}

Family family_with_perturbation(int64_t root, const std::string& perturbation) {
  graph::check_perturbation("arborescence.family_with_perturbation", perturbation);
  Family f = family(root);
  if (perturbation == "gumbel") return f;
  f.sample = [root, perturbation](const at::Tensor& theta, GeneratorOpt g) {
    return sample(theta, root, g, perturbation);
  };
  f.perturbation = [perturbation](const at::Tensor& theta, GeneratorOpt g) {
    return graph::perturb_edges("arborescence.perturb", theta, false, perturbation, g);
  };
  return f;
}

TORCH_LIBRARY_FRAGMENT(structgrad, library) {
  FamilyOperators(library, "arborescence")
      .def("map(Tensor theta, int root=0) -> Tensor", &map, "The maximum arborescence out of root (Chu-Liu-Edmonds).")
      .def("sample(Tensor theta, int root=0, Generator? generator=None, str perturbation=\"gumbel\") -> Tensor",
           &sample,
           "Perturb-and-MAP: the maximum arborescence under theta + G (one Gumbel per edge). Not the law of "
           "``trace``, which follows the minimum arborescence under E (seed 002): perturbation="
           "\"negative_exponential\" is that law. " STRUCTGRAD_PERTURBATION_DOC)
      .def("relax(Tensor theta, float tau, int root=0, bool hard=False, Generator? generator=None, "
           "str backward=\"custom\", str perturbation=\"gumbel\") -> Tensor",
           &relax,
           "The stochastic softmax trick: edge marginals of the Gibbs distribution over arborescences at "
           "(theta + G) / tau (log-stable directed matrix-tree theorem). hard=True: the exact arborescence "
           "forward. backward=\"custom\" (hand-written) or \"finite_difference\". perturbation as ``sample``'s: "
           "the marginals at the perturbed scores / tau.")
      .def("relax_perturbed(Tensor perturbed, float tau, int root=0, str backward=\"custom\") -> Tensor",
           &relax_perturbed, "``relax`` on given perturbed scores (no noise drawn), e.g. from ``conditional_gumbel``.")
      .def("log_partition(Tensor theta, int root=0) -> Tensor", &log_partition,
           "log of the sum over arborescences out of root of exp(score): (*batch).")
      .def("marginals(Tensor theta, int root=0) -> Tensor", &marginals, "P(i -> j in A): (*batch, n, n).")
      .def("gibbs_sample(Tensor theta, int root=0, Generator? generator=None, str sampler=\"auto\") -> Tensor",
           &gibbs_sample,
           "An exact sample of the Gibbs distribution p(A) ∝ exp(score(A)) over the arborescences out of root "
           "(another law than ``sample``'s): (*batch, n, n). " "sampler: \"auto\" (Wilson's loop-erased random walks where a bound on their expected length is "
           "within budget, else the sequential sampler), \"wilson\" or \"sequential\" (each parent drawn from its "
           "conditional law by the log-stable matrix-tree theorem, O(n^4), at any logit spread).")
      .def_gibbs_verbs<&family>(", int root=0")
      .def("enumerate(int n, int root=0, ScalarType? dtype=None) -> Tensor",
           [](int64_t n, int64_t root, c10::optional<at::ScalarType> dtype) {
             return enumerate(n, root, enumerate_options(dtype));
           },
           "Every arborescence of the complete digraph on n <= 7 vertices: (n^(n-2), n, n).")
      .def("trace(Tensor theta, int root=0, Generator? generator=None) -> " STRUCTGRAD_TRACE_RETURNS,
           [](const at::Tensor& theta, int64_t root, GeneratorOpt g) { return trace_tuple(trace(theta, root, g)); },
           "Recursive Gumbel-Max with Chu-Liu-Edmonds (seed 002): E ~ Exp(exp(theta)) per edge; the structure is "
           "the MINIMUM-sum arborescence under E, a different law from ``sample``'s maximum under theta + G. The "
           "trace: every non-root node's cheapest in-edge (increasing node), then the cheapest edge into each "
           "contracted cycle; keys i * n + j, padded with -1.")
      .def("trace_log_prob(Tensor theta, Tensor trace, int root=0) -> Tensor", &trace_log_prob,
           "log P(trace), differentiable in theta: (*batch). Invalid traces raise ValueError.")
      .def("conditional_gumbel(Tensor theta, Tensor trace, int root=0, Generator? generator=None) -> Tensor",
           &conditional_gumbel,
           "theta + G = -log E given the trace (seed 002 App. B), reparameterized: (*batch, n, n), -inf off the "
           "edges.");
}

}  // namespace structgrad::arborescence
