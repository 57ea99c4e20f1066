#include "structgrad/structures/arborescence.h"

#include "structgrad/ops/check.h"
#include "structgrad/ops/matrix_tree.h"
#include "structgrad/solvers/arborescence.h"
#include "structgrad/solvers/cle_recursion.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/structures/recursive.h"
#include "structgrad/structures/graph.h"
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

at::Tensor sample(const at::Tensor& theta, int64_t root, GeneratorOpt generator) {
  check_input("arborescence.sample", theta, root);
  return maximum_arborescences(theta + graph::edge_noise(theta, false, generator), root);
}

at::Tensor relax(const at::Tensor& theta, double tau, int64_t root, bool hard, GeneratorOpt generator,
                 const std::string& backward) {
  check_input("arborescence.relax", theta, root);
  check::positive("arborescence.relax", "tau", tau);
  at::Tensor perturbed = theta + graph::edge_noise(theta, false, generator);
  auto solve = [root](const at::Tensor& z) { return ops::matrix_tree_marginals(z, /*directed=*/true, root); };
  at::Tensor soft = regularized_argmax("arborescence.relax", perturbed / tau, 2, backward, solve);
  if (!hard) return soft;
  return maximum_arborescences(perturbed, root) + (soft - soft.detach());
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
  f.map = [root](const at::Tensor& theta) { return map(theta, root); };
  f.sample = [root](const at::Tensor& theta, GeneratorOpt g) { return sample(theta, root, g); };
  f.relax = [root](const at::Tensor& theta, const RelaxOptions& o, GeneratorOpt g) {
    check_only_regularizer("arborescence.relax", o.regularizer, "exponential_family");
    return relax(theta, o.tau, root, o.hard, g, o.backward.empty() ? "custom" : o.backward);
  };
  f.enumerate = [root](const at::Tensor& theta) { return enumerate(theta.size(-1), root, theta.options()); };
  f.mean = [root](const at::Tensor& theta) { return marginals(theta, root); };
  f.relax_perturbed = [root](const at::Tensor& perturbed, const RelaxOptions& o) {
    check_only_regularizer("arborescence.relax", o.regularizer, "exponential_family");
    return ops::matrix_tree_marginals(perturbed / o.tau, /*directed=*/true, root);
  };
  verbs(root).install(f);
  return f;
}

}  // namespace structgrad::arborescence
