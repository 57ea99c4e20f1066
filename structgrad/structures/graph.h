// What the graph families (spanning_tree, arborescence) share: checking dense weight
// matrices, per-edge noise, and running a plain-C++ solver on every instance of a batch.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>

#include "structgrad/core/noise.h"
#include "structgrad/solvers/gibbs_sampling.h"

namespace structgrad::graph {

// theta: (*batch, n, n) log-weights, floating, no NaN or +inf (-inf: absent edge). With
// `symmetric`, theta[i, j] == theta[j, i] up to 1e-9 relative to the larger magnitude (no
// absolute floor: exact equality always passes, a finite weight against -inf never); the error
// names the first offending entry.
// `name` is the argument's name in the errors (pairwise_binary's pairwise weights are "a").
void check_weights(const char* function, const at::Tensor& theta, bool symmetric, const char* name = "theta");

// Copies the upper triangle of every (n, n) instance of the contiguous `weights` into its lower
// triangle and sets the diagonal to `diagonal`, in place; returns `weights`. In place because a
// fresh tensor of a batch's size is the dominant cost of these small kernels where memory is
// returned to the system between calls: its first touch page-faults (about 6 ms for 1.8 MB on
// the 2-core development machine, more than Kruskal on the same batch).
at::Tensor mirror_upper_(at::Tensor& weights, double diagonal);

// Gumbel noise of theta's shape; with `symmetric`, one draw per undirected edge, mirrored.
at::Tensor edge_noise(const at::Tensor& theta, bool symmetric, GeneratorOpt generator);

// The perturbations of seed 000's arborescence table, the scores whose MAP is a perturb-and-MAP
// sample and whose relaxation (at scores / tau) is the stochastic softmax trick:
//   "gumbel"                theta + G, G ~ Gumbel(0, 1) (edge_noise): the default, whose MAP law the
//                           recursive traces and spanning_tree's log_prob follow.
//   "gaussian"              theta + N, N ~ Normal(0, 1).
//   "negative_exponential"  -E exp(-theta), E ~ Exp(1): the utilities of the Exponential-Min race
//                           (the maximum-sum structure under them is the minimum-sum one under
//                           E / exp(theta), the law of seed 002's Chu-Liu-Edmonds trace). A monotone
//                           map of theta + G = -log(E exp(-theta)) on the same E, so Kruskal (which
//                           reads only the order of the weights) gives the same tree under both;
//                           Chu-Liu-Edmonds (which adds them) and the relaxation do not. The
//                           utilities span exp(theta's spread): finite theta must lie within
//                           +-kNegativeExponentialBound of the dtype, or the call is refused.
// One draw per undirected edge, mirrored, with `symmetric`. -inf (absent) edges stay -inf (and the
// diagonal becomes -inf under "negative_exponential", whose utilities it would overflow). The
// noise is drawn in float64, as every sampler's, so a seed gives one structure in either dtype.
at::Tensor perturb_edges(const char* function, const at::Tensor& theta, bool symmetric,
                         const std::string& perturbation, GeneratorOpt generator);
// The operators' doc of the perturbation argument.
#define STRUCTGRAD_PERTURBATION_DOC                                                                         \
  "perturbation: \"gumbel\" (the default: theta + G), \"gaussian\" (theta + N(0, 1)) or "                  \
  "\"negative_exponential\" (-E exp(-theta), E ~ Exp(1), the Exponential-Min race's utilities; finite theta " \
  "within +-80 in float32, +-700 in float64)."
// Errors name `function` and list the perturbations when `perturbation` is none of them.
void check_perturbation(const char* function, const std::string& perturbation);
// |theta| beyond which -E exp(-theta) leaves the dtype's range (float32, float64): about 0.9 of
// log(largest finite value), leaving room for E up to e^8.
constexpr double kNegativeExponentialBound32 = 80.0, kNegativeExponentialBound64 = 700.0;

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
