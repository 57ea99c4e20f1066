// The arborescence family: a spanning arborescence of a directed graph on n vertices rooted at
// `root` (every other vertex has exactly one parent, and all are reachable from the root), as a
// (*batch, n, n) 0/1 indicator with x[i, j] = 1 for the edge i -> j.
//
// theta: (*batch, n, n) edge scores, -inf for an absent edge; the diagonal and the edges into
// the root are ignored. root defaults to 0.
//
//   auto x = structgrad::arborescence::sample(theta, /*root=*/0, gen);  // Chu-Liu-Edmonds on theta + G
//   auto y = structgrad::arborescence::relax(theta, 0.5);               // directed matrix-tree marginals
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "structgrad/structures/family.h"

namespace structgrad::arborescence {

// The maximum-score arborescence (Chu-Liu-Edmonds, dense O(n^2)). Error when some vertex
// cannot be reached from the root.
at::Tensor map(const at::Tensor& theta, int64_t root = 0);

// Perturb-and-MAP (seed 000): the maximum arborescence under theta + G, one Gumbel per directed
// edge. This is not the law of seed 002's Exponential-Min recursion (the minimum-sum
// arborescence under E), which the recursive `trace` of issue 5 follows; perturbation
// "negative_exponential" (-E exp(-theta)) is that law. "gaussian": theta + N(0, 1). Seed 000's
// arborescence table compares the three (graph::perturb_edges).
at::Tensor sample(const at::Tensor& theta, int64_t root = 0, GeneratorOpt generator = c10::nullopt,
                  const std::string& perturbation = "gumbel");

// The stochastic softmax trick: edge marginals of the Gibbs distribution over arborescences at
// (theta + G) / tau by the log-stable directed matrix-tree theorem (Tutte). hard = true
// returns sample's arborescence forward with the relaxed gradient backward. backward "custom"
// (the hand-written one) or "finite_difference" (structures/relaxation.h). perturbation as
// sample's: the marginals at perturb_edges(theta) / tau.
at::Tensor relax(const at::Tensor& theta, double tau, int64_t root = 0, bool hard = false,
                 GeneratorOpt generator = c10::nullopt, const std::string& backward = "custom",
                 const std::string& perturbation = "gumbel");

// relax on given perturbed scores (no noise drawn), e.g. from conditional_gumbel: (*batch, n, n).
at::Tensor relax_perturbed(const at::Tensor& perturbed, double tau, int64_t root = 0,
                           const std::string& backward = "custom");

// log sum_A exp(score(A)): (*batch).
at::Tensor log_partition(const at::Tensor& theta, int64_t root = 0);

// P(i -> j in A): (*batch, n, n); the columns of non-root vertices sum to 1.
at::Tensor marginals(const at::Tensor& theta, int64_t root = 0);

// Every arborescence of the complete digraph on n vertices rooted at root: (n^(n-2), n, n).
at::Tensor enumerate(int64_t n, int64_t root = 0, const at::TensorOptions& options = at::kDouble);

// Recursive Gumbel-Max with Chu-Liu-Edmonds (seed 002 §2.3): E ~ Exp(exp(theta)) per edge, and
// the structure is the MINIMUM-sum arborescence under E, not sample's maximum under theta + G
// (the two laws differ). The trace: every non-root node's cheapest in-edge (increasing node),
// then the cheapest edge into each contracted cycle, in order of contraction; keys i * n + j.
Trace trace(const at::Tensor& theta, int64_t root = 0, GeneratorOpt generator = c10::nullopt);
at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace, int64_t root = 0);
// theta + G = -log E given the trace, (*batch, n, n), -inf off the keys; reparameterized.
at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, int64_t root = 0,
                              GeneratorOpt generator = c10::nullopt);

// An exact sample of the Gibbs distribution p(A) ∝ exp(score(A)) over the arborescences out of
// root (another law than sample's): (*batch, n, n). sampler as spanning_tree::gibbs_sample's.
at::Tensor gibbs_sample(const at::Tensor& theta, int64_t root = 0, GeneratorOpt generator = c10::nullopt,
                        const std::string& sampler = "auto");

Family family(int64_t root = 0);
// The family whose sample, perturb and relax draw `perturbation` (family() is "gumbel").
Family family_with_perturbation(int64_t root, const std::string& perturbation);

}  // namespace structgrad::arborescence
