// The spanning-tree family: a spanning tree of an undirected graph on n vertices, as a
// symmetric (*batch, n, n) 0/1 indicator (x[i, j] = x[j, i] = 1 for a tree edge).
//
// theta: (*batch, n, n) symmetric edge scores, -inf for an absent edge, the diagonal ignored.
// A tree's score is the sum over its edges, each counted once.
//
//   auto x = structgrad::spanning_tree::sample(theta, gen);      // Kruskal on theta + Gumbel
//   auto y = structgrad::spanning_tree::relax(theta, 0.5);       // matrix-tree marginals
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "structgrad/structures/family.h"

namespace structgrad::spanning_tree {

// The maximum spanning tree (Kruskal). Error when the graph is disconnected.
at::Tensor map(const at::Tensor& theta);

// Perturb-and-MAP: map(theta + G) with one Gumbel per undirected edge. Kruskal depends only on
// the order of the perturbed weights, so this is the law of the Exponential-Min recursion.
// perturbation: "gumbel" (the default), "gaussian" (theta + N(0, 1)) or "negative_exponential"
// (-E exp(-theta); the same law as "gumbel" for Kruskal, see graph::perturb_edges).
at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt,
                  const std::string& perturbation = "gumbel");

// The stochastic softmax trick with the exponential-family regularizer: the edge marginals of
// the Gibbs distribution over trees at (theta + G) / tau, by the log-stable matrix-tree theorem.
// hard = true returns sample's tree forward with the relaxed gradient backward. backward "custom"
// (the hand-written one) or "finite_difference" (structures/relaxation.h). perturbation as
// sample's: the marginals at perturb_edges(theta) / tau.
at::Tensor relax(const at::Tensor& theta, double tau, bool hard = false, GeneratorOpt generator = c10::nullopt,
                 const std::string& backward = "custom", const std::string& perturbation = "gumbel");

// relax on given perturbed scores (no noise drawn), e.g. from conditional_gumbel: (*batch, n, n).
at::Tensor relax_perturbed(const at::Tensor& perturbed, double tau, const std::string& backward = "custom");

// An exact sample of the Gibbs distribution p(T) ∝ exp(score(T)) (another law than sample's):
// (*batch, n, n). sampler: "auto" (Wilson's loop-erased random walks where a bound on their
// expected length is within budget, the sequential matrix-tree sampler otherwise; the choice
// depends on theta only, so it cannot bias the draw: solvers/gibbs_sampling.h), "wilson" or
// "sequential".
at::Tensor gibbs_sample(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt,
                        const std::string& sampler = "auto");

// log sum_T exp(score(T)): (*batch).
at::Tensor log_partition(const at::Tensor& theta);

// P({i, j} in T) under p(T) ∝ exp(score(T)): symmetric (*batch, n, n).
at::Tensor marginals(const at::Tensor& theta);

// Every spanning tree of the complete graph on n vertices: (n^(n-2), n, n).
at::Tensor enumerate(int64_t n, const at::TensorOptions& options = at::kDouble);

// Recursive Gumbel-Max with Kruskal (seed 002 §2.3): the trace is the n - 1 edges in the order
// added, as keys i * n + j with i < j, (*batch, n - 1); the structure is sample's law.
Trace trace(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);

// log P(trace): each added edge against every edge that joins two components then; (*batch).
at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace);

// theta + G given the trace, symmetric (*batch, n, n), -inf on the diagonal; reparameterized.
at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, GeneratorOpt generator = c10::nullopt);

// log P(sample == x): the sum over the (n - 1)! orders in which Kruskal can add x's edges
// (n <= 9). x: (*, *batch, n, n) symmetric trees; returns (*, *batch).
at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x);

Family family();
// The family whose sample, perturb and relax draw `perturbation` (family() is "gumbel"). Under
// "gaussian" it has no log_prob (Kruskal's order law is that of Gumbel or exponential noise).
Family family_with_perturbation(const std::string& perturbation);

}  // namespace structgrad::spanning_tree
