#include "structgrad/structures/spanning_tree.h"

#include "structgrad/ops/check.h"
#include "structgrad/ops/matrix_tree.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/kruskal.h"
#include "structgrad/solvers/recursive_algorithms.h"
#include "structgrad/structures/recursive.h"
#include "structgrad/structures/graph.h"
#include "structgrad/structures/relaxation.h"

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

at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator) {
  graph::check_weights("spanning_tree.sample", theta, true);
  return maximum_trees(theta + graph::edge_noise(theta, true, generator));
}

at::Tensor relax(const at::Tensor& theta, double tau, bool hard, GeneratorOpt generator, const std::string& backward) {
  graph::check_weights("spanning_tree.relax", theta, true);
  check::positive("spanning_tree.relax", "tau", tau);
  at::Tensor perturbed = theta + graph::edge_noise(theta, true, generator);
  auto solve = [](const at::Tensor& z) { return ops::matrix_tree_marginals(z, /*directed=*/false); };
  at::Tensor soft = regularized_argmax("spanning_tree.relax", perturbed / tau, 2, backward, solve);
  if (!hard) return soft;
  return maximum_trees(perturbed) + (soft - soft.detach());
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

at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x) {
  graph::check_weights("spanning_tree.log_prob", theta, true);
  const int64_t n = theta.size(-1);
  TORCH_CHECK_VALUE(x.dim() >= 2 && x.size(-1) == n && x.size(-2) == n, "spanning_tree.log_prob: x must end in (",
                    n, ", ", n, "), got ", check::shape_string(x.sizes()));
  at::Tensor upper = x.reshape({-1, n * n}) * at::ones({n, n}, x.options()).triu(1).reshape({1, n * n});
  TORCH_CHECK_VALUE((upper.sum(-1) == n - 1).all().item<bool>(), "spanning_tree.log_prob: every x must have n - 1 = ",
                    n - 1, " edges");
  // The keys of the tree's edges, in increasing order: (*, n - 1).
  at::Tensor parts = std::get<0>(at::sort(std::get<1>(at::topk(upper, n - 1, -1)), -1));
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end() - 2);
  shape.push_back(n - 1);
  return recursive::unordered_log_prob("spanning_tree.log_prob", theta, parts.reshape(shape), key_space(n));
}

const Family& family() {
  static const Family spanning_tree_family = [] {
    Family f;
    f.name = "spanning_tree";
    f.event_dim = 2;
    f.symmetric = true;
    f.map = [](const at::Tensor& theta) { return map(theta); };
    f.sample = [](const at::Tensor& theta, GeneratorOpt g) { return sample(theta, g); };
    f.relax = [](const at::Tensor& theta, const RelaxOptions& o, GeneratorOpt g) {
      check_only_regularizer("spanning_tree.relax", o.regularizer, "exponential_family");
      return relax(theta, o.tau, o.hard, g, o.backward.empty() ? "custom" : o.backward);
    };
    f.enumerate = [](const at::Tensor& theta) { return enumerate(theta.size(-1), theta.options()); };
    f.mean = [](const at::Tensor& theta) { return marginals(theta); };
    f.log_prob = [](const at::Tensor& theta, const at::Tensor& x) { return log_prob(theta, x); };
    f.relax_perturbed = [](const at::Tensor& perturbed, const RelaxOptions& o) {
      check_only_regularizer("spanning_tree.relax", o.regularizer, "exponential_family");
      return ops::matrix_tree_marginals(perturbed / o.tau, /*directed=*/false);
    };
    verbs().install(f);
    return f;
  }();
  return spanning_tree_family;
}

}  // namespace structgrad::spanning_tree
