#include "structgrad/structures/spanning_tree.h"

#include "structgrad/ops/check.h"
#include "structgrad/ops/matrix_tree.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/kruskal.h"
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

const Family& family() {
  static const Family spanning_tree_family = [] {
    Family f;
    f.name = "spanning_tree";
    f.event_dim = 2;
    f.map = [](const at::Tensor& theta) { return map(theta); };
    f.sample = [](const at::Tensor& theta, GeneratorOpt g) { return sample(theta, g); };
    f.relax = [](const at::Tensor& theta, const RelaxOptions& o, GeneratorOpt g) {
      check_only_regularizer("spanning_tree.relax", o.regularizer, "exponential_family");
      return relax(theta, o.tau, o.hard, g, o.backward.empty() ? "custom" : o.backward);
    };
    f.enumerate = [](const at::Tensor& theta) { return enumerate(theta.size(-1), theta.options()); };
    f.mean = [](const at::Tensor& theta) { return marginals(theta); };
    return f;
  }();
  return spanning_tree_family;
}

}  // namespace structgrad::spanning_tree
