// The matching family: the greedy row-column matching of seed 002 §2.3 on a perturbed square
// matrix, as a (*batch, n, n) permutation matrix (x[i, j] = 1 when row i goes to column j).
//
// theta: (*batch, n, n) entry scores, -inf for a forbidden pair. The greedy matching takes the
// best entry whose row and column are both free, n times; unlike the Hungarian algorithm
// (structgrad.permutation) it has the stochastic invariant, so its traces have exact
// probabilities.
//
//   auto t = structgrad::matching::trace(theta, gen);   // t.trace: the n entries i * n + j in order
#pragma once

#include <ATen/ATen.h>

#include "structgrad/structures/family.h"

namespace structgrad::matching {

// The greedy matching of theta. Error when it reaches a row with no admissible column.
at::Tensor map(const at::Tensor& theta);

// The greedy matching of theta + G: the structure of trace.
at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);

// log P(sample == x): the sum over the n! orders in which the greedy matching can pick x's
// entries (n <= 8). x: (*, *batch, n, n); returns (*, *batch). Differentiable.
at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x);

// Every permutation matrix: (n!, n, n). n <= 8.
at::Tensor enumerate(int64_t n, const at::TensorOptions& options = at::kDouble);

// The greedy recursion: the trace is the n entries i * n + j in the order picked, (*batch, n).
Trace trace(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);
at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace);
// theta + G given the trace, (*batch, n, n), reparameterized.
at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, GeneratorOpt generator = c10::nullopt);

Family family();

}  // namespace structgrad::matching
