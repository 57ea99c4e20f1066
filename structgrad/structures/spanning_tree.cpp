#include "structgrad/structures/spanning_tree.h"

#include "structgrad/core/check.h"
#include "structgrad/ops/matrix_tree.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/kruskal.h"
#include "structgrad/solvers/recursive_algorithms.h"
#include "structgrad/structures/gibbs.h"
#include "structgrad/structures/graph.h"
#include "structgrad/structures/operators.h"
#include "structgrad/structures/recursive.h"
#include "structgrad/structures/relaxation.h"
#include "structgrad/structures/support.h"

namespace structgrad::spanning_tree {
namespace {

at::Tensor maximum_trees(const at::Tensor& scores) {
  return graph::solve_each(
      scores,
      [](const double* w, int64_t n, double* x) {
        auto tree = solvers::max_spanning_tree(w, n);
        if (tree.status != solvers::SpanningTreeStatus::kOptimal) return false;
        for (auto [i, j] : tree.edges) x[i * n + j] = x[j * n + i] = 1;
        return true;
      },
      "spanning_tree: the graph is disconnected (no spanning tree exists)");
}

// Kruskal's keys are the upper triangle's edges; perturbations come back mirrored, -inf on the
// diagonal, so that they are valid symmetric weights again.
recursive::KeySpace key_space(int64_t n) {
  recursive::KeySpace space;
  space.event_dim = 2;
  space.structure_shape = {n, n};
  space.factory = [n] { return std::make_unique<solvers::KruskalRecursion>(n); };
  space.present = [n](const at::Tensor& flat) {
    return at::ones({n, n}, flat.options().dtype(at::kBool)).triu(1).reshape({1, n * n}).expand_as(flat);
  };
  space.to_event = [n](const at::Tensor& flat, const at::Tensor&) {
    if (!flat.requires_grad() && flat.is_contiguous()) {  // the trace's own tensor: mirrored in place
      at::Tensor m = flat.view({-1, n, n});
      return graph::mirror_upper_(m, -INFINITY).view({-1, n * n});
    }
    at::Tensor m = flat.reshape({-1, n, n});
    at::Tensor upper = at::ones({n, n}, flat.options().dtype(at::kBool)).triu(1);
    at::Tensor mirrored = at::where(upper, m, m.transpose(-1, -2));
    return mirrored.masked_fill(at::eye(n, upper.options()), -INFINITY).reshape({-1, n * n});
  };
  space.infeasible = "spanning_tree: the graph is disconnected (no spanning tree exists)";
  return space;
}

recursive::TraceVerbs verbs() {
  return {"spanning_tree", [](const char* function, const at::Tensor& theta) { graph::check_weights(function, theta, true); },
          [](const at::Tensor& theta) { return key_space(theta.size(-1)); }};
}

}  // namespace

at::Tensor map(const at::Tensor& theta) {
  graph::check_weights("spanning_tree.map", theta, true);
  return maximum_trees(theta);
}

at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator, const std::string& perturbation) {
  const char* function = "spanning_tree.sample";
  graph::check_perturbation(function, perturbation);
  graph::check_weights(function, theta, true);
  return maximum_trees(graph::perturb_edges(function, theta, true, perturbation, generator));
}

at::Tensor relax(const at::Tensor& theta, double tau, bool hard, GeneratorOpt generator, const std::string& backward,
                 const std::string& perturbation) {
  const RelaxOptions options{tau, "", hard, explicit_backward("spanning_tree.relax", backward)};
  graph::check_perturbation("spanning_tree.relax", perturbation);
  return family_with_perturbation(perturbation).relax(theta, options, generator);
}

at::Tensor relax_perturbed(const at::Tensor& perturbed, double tau, const std::string& backward) {
  const RelaxOptions options{tau, "", false, explicit_backward("spanning_tree.relax_perturbed", backward)};
  return family().relax_perturbed(perturbed, options);
}

at::Tensor log_partition(const at::Tensor& theta) {
  graph::check_weights("spanning_tree.log_partition", theta, true);
  return ops::matrix_tree_log_partition(theta, /*directed=*/false);
}

at::Tensor marginals(const at::Tensor& theta) {
  graph::check_weights("spanning_tree.marginals", theta, true);
  return ops::matrix_tree_marginals(theta, /*directed=*/false);
}

at::Tensor enumerate(int64_t n, const at::TensorOptions& options) {
  TORCH_CHECK_VALUE(n >= 1 && n <= 8, "spanning_tree.enumerate: n must be in [1, 8], got ", n);
  auto trees = solvers::spanning_trees(n);
  at::Tensor out = at::zeros({int64_t(trees.size()), n, n}, options);
  for (size_t t = 0; t < trees.size(); ++t)
    for (auto [i, j] : trees[t]) out[t][i][j] = out[t][j][i] = 1;
  return out;
}

Trace trace(const at::Tensor& theta, GeneratorOpt generator) { return verbs().trace(theta, generator); }

at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace) {
  return verbs().trace_log_prob(theta, trace);
}

at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, GeneratorOpt generator) {
  return verbs().conditional_gumbel(theta, trace, generator);
}

at::Tensor gibbs_sample(const at::Tensor& theta, GeneratorOpt generator, const std::string& sampler) {
  const char* function = "spanning_tree.gibbs_sample";
  graph::check_weights(function, theta, true);
  return graph::gibbs_trees(function, theta, /*directed=*/false, 0, gibbs::tree_sampler(function, sampler), generator);
}

at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x) {
  graph::check_weights("spanning_tree.log_prob", theta, true);
  const int64_t n = theta.size(-1);
  TORCH_CHECK_VALUE(x.dim() >= 2 && x.size(-1) == n && x.size(-2) == n, "spanning_tree.log_prob: x must end in (",
                    n, ", ", n, "), got ", check::shape_string(x.sizes()));
  check_indicators("spanning_tree.log_prob", x);
  at::Tensor upper = x.reshape({-1, n * n}) * at::ones({n, n}, x.options()).triu(1).reshape({1, n * n});
  TORCH_CHECK_VALUE((upper.sum(-1) == n - 1).all().item<bool>(), "spanning_tree.log_prob: every x must have n - 1 = ",
                    n - 1, " edges");
  // The keys of the tree's edges, in increasing order: (*, n - 1).
  at::Tensor parts = std::get<0>(at::sort(std::get<1>(at::topk(upper, n - 1, -1)), -1));
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end() - 2);
  shape.push_back(n - 1);
  return recursive::unordered_log_prob("spanning_tree.log_prob", theta, parts.reshape(shape), key_space(n));
}

Family family() {
  Family f;
  f.name = "spanning_tree";
  f.event_dim = 2;
  f.symmetric = true;
  f.check = [](const char* function, const at::Tensor& theta) { graph::check_weights(function, theta, true); };
  f.map = map;
  f.sample = [](const at::Tensor& theta, GeneratorOpt g) { return sample(theta, g); };
  f.relax_scores = [](const char* function, const at::Tensor& perturbed, const RelaxOptions& o) {
    check::positive(function, "tau", o.tau);
    check_only_regularizer(function, o.regularizer, "exponential_family");
    auto solve = [](const at::Tensor& z) { return ops::matrix_tree_marginals(z, /*directed=*/false); };
    return regularized_argmax(function, perturbed / o.tau, 2, or_default(o.backward, "custom"), solve);
  };
  f.enumerate = enumerate_by_size(enumerate);
  f.log_prob = log_prob;
  f.log_partition = log_partition;
  f.marginals = marginals;
  f.mean = f.marginals;
  f.gibbs_sample = [](const at::Tensor& theta, GeneratorOpt g) { return gibbs_sample(theta, g); };
  f.support = graph::spanning_trees_among;
  verbs().install(f);
  return f;
}

Family family_with_perturbation(const std::string& perturbation) {
  graph::check_perturbation("spanning_tree.family_with_perturbation", perturbation);
  Family f = family();
  if (perturbation == "gumbel") return f;
  f.sample = [perturbation](const at::Tensor& theta, GeneratorOpt g) { return sample(theta, g, perturbation); };
  f.perturbation = [perturbation](const at::Tensor& theta, GeneratorOpt g) {
    return graph::perturb_edges("spanning_tree.perturb", theta, true, perturbation, g);
  };
  if (perturbation == "gaussian") f.log_prob = nullptr;
  return f;
}

TORCH_LIBRARY_FRAGMENT(structgrad, library) {
  FamilyOperators(library, "spanning_tree")
      .def("map(Tensor theta) -> Tensor", &map, "The maximum spanning tree (Kruskal).")
      .def("sample(Tensor theta, Generator? generator=None, str perturbation=\"gumbel\") -> Tensor", &sample,
           "Perturb-and-MAP: Kruskal on theta + G, one Gumbel per undirected edge. " STRUCTGRAD_PERTURBATION_DOC
           " Kruskal reads only the order of the weights, so \"negative_exponential\" gives \"gumbel\"'s tree.")
      .def("relax(Tensor theta, float tau, bool hard=False, Generator? generator=None, str backward=\"custom\", "
           "str perturbation=\"gumbel\") -> Tensor",
           &relax,
           "The stochastic softmax trick: edge marginals of the Gibbs distribution over trees at (theta + G) / tau "
           "(log-stable matrix-tree theorem). hard=True: the exact tree forward. backward=\"custom\" "
           "(hand-written) or \"finite_difference\" (two more solver calls). perturbation as ``sample``'s: the "
           "marginals at the perturbed scores / tau.")
      .def("relax_perturbed(Tensor perturbed, float tau, str backward=\"custom\") -> Tensor", &relax_perturbed,
           "``relax`` on given perturbed scores (no noise drawn), e.g. from ``conditional_gumbel``.")
      .def("log_partition(Tensor theta) -> Tensor", &log_partition,
           "log of the sum over spanning trees of exp(score): (*batch).")
      .def("marginals(Tensor theta) -> Tensor", &marginals, "P({i, j} in T), symmetric (*batch, n, n).")
      .def("gibbs_sample(Tensor theta, Generator? generator=None, str sampler=\"auto\") -> Tensor", &gibbs_sample,
           "An exact sample of the Gibbs distribution p(T) ∝ exp(score(T)) (another law than ``sample``'s), "
           "symmetric (*batch, n, n). " "sampler: \"auto\" (Wilson's loop-erased random walks where a bound on their expected length is "
           "within budget, else the sequential sampler), \"wilson\" or \"sequential\" (each parent drawn from its "
           "conditional law by the log-stable matrix-tree theorem, O(n^4), at any logit spread).")
      .def_gibbs_verbs<&family>("")
      .def("enumerate(int n, ScalarType? dtype=None) -> Tensor",
           [](int64_t n, c10::optional<at::ScalarType> dtype) { return enumerate(n, enumerate_options(dtype)); },
           "Every spanning tree of the complete graph on n <= 8 vertices: (n^(n-2), n, n).")
      .def("log_prob(Tensor theta, Tensor x) -> Tensor", &log_prob,
           "log P(sample == x): the sum over the (n-1)! orders in which Kruskal adds x's edges (n <= 9). "
           "x: (*, *batch, n, n); returns (*, *batch).")
      .def("trace(Tensor theta, Generator? generator=None) -> " STRUCTGRAD_TRACE_RETURNS,
           [](const at::Tensor& theta, GeneratorOpt g) { return trace_tuple(trace(theta, g)); },
           "Recursive Gumbel-Max with Kruskal: the tree and its trace, the n - 1 edges in the order added as keys "
           "i * n + j (i < j), (*batch, n - 1). The same law as ``sample``.")
      .def("trace_log_prob(Tensor theta, Tensor trace) -> Tensor", &trace_log_prob,
           "log P(trace), differentiable in theta: (*batch). An invalid trace (an entry that is not an admissible "
           "choice, a wrong length) raises ValueError.")
      .def("conditional_gumbel(Tensor theta, Tensor trace, Generator? generator=None) -> Tensor",
           &conditional_gumbel,
           "theta + G given the trace, symmetric (*batch, n, n) with -inf on the diagonal; reparameterized.");
}

}  // namespace structgrad::spanning_tree
