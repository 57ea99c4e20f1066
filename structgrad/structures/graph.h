// What the graph families (spanning_tree, arborescence) share: checking dense weight
// matrices, per-edge noise, and running a plain-C++ solver on every instance of a batch.
#pragma once

#include <ATen/ATen.h>

#include <functional>

#include "structgrad/core/noise.h"
#include "structgrad/solvers/gibbs_sampling.h"

namespace structgrad::graph {

// theta: (*batch, n, n) log-weights, floating, no NaN or +inf (-inf: absent edge). With
// `symmetric`, theta[i, j] == theta[j, i] up to 1e-9 relative to the larger magnitude (no
// absolute floor: exact equality always passes, a finite weight against -inf never); the error
// names the first offending entry.
// `name` is the argument's name in the errors (pairwise_binary's pairwise weights are "a").
void check_weights(const char* function, const at::Tensor& theta, bool symmetric, const char* name = "theta");

// Gumbel noise of theta's shape; with `symmetric`, one draw per undirected edge, mirrored.
at::Tensor edge_noise(const at::Tensor& theta, bool symmetric, GeneratorOpt generator);

// Runs solve(weights, n, indicator) on every (n, n) instance in float64 and returns the 0/1
// indicators in theta's dtype. solve returns false when the instance has no solution, and
// then `failure` is raised.
using InstanceSolver = std::function<bool(const double* weights, int64_t n, double* indicator)>;
at::Tensor solve_each(const at::Tensor& theta, const InstanceSolver& solve, const char* failure);

// Whether each 0/1 indicator x (*, n, n) is a spanning tree (symmetric, empty diagonal, n - 1
// edges, no cycle) or an arborescence out of `root` (x[u, v] = 1 for the edge u -> v: one edge
// into every other vertex, none into the root, no cycle): bool (*).
at::Tensor spanning_trees_among(const at::Tensor& x);
at::Tensor arborescences_among(const at::Tensor& x, int64_t root);

// Exact samples of the Gibbs distribution over trees, p(T) ∝ prod_{e in T} exp(theta_e), by
// solvers::gibbs_arborescence on every instance: arborescences out of `root` when `directed`,
// else spanning trees (symmetric indicators; an arborescence with symmetric weights and its
// orientation dropped, whatever its root). Errors name `function`.
at::Tensor gibbs_trees(const char* function, const at::Tensor& theta, bool directed, int64_t root,
                       solvers::TreeSampler sampler, GeneratorOpt generator);

}  // namespace structgrad::graph
