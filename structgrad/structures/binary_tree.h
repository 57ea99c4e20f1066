// The binary-tree family (seed 002 §2.3, §5.4): a binary tree whose in-order traversal is the
// sequence 0..n-1, as a (*batch, n, n) 0/1 matrix with x[p, c] = 1 when node p is the parent of
// node c (a child c < p is a left child). The latent order of non-monotonic generation.
//
// theta: (*batch, n) node scores. The recursion makes the best node of the sequence the root
// and recurses on the nodes left and right of it; sample runs it on theta + G.
//
//   auto t = structgrad::binary_tree::trace(theta, gen);   // t.trace: the subtree roots, level by level
#pragma once

#include <ATen/ATen.h>

#include "structgrad/structures/family.h"

namespace structgrad::binary_tree {

// The tree of theta (the best node at every split).
at::Tensor map(const at::Tensor& theta);

// The tree of theta + G: the structure of trace.
at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);

// log P(sample == x). A tree fixes its trace (the subtree roots, level by level), so this is the
// trace's log-probability. x: (*, *batch, n, n); returns (*, *batch). Differentiable.
at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x);

// Every binary tree on n ordered nodes (the Catalan number C_n of them): (C_n, n, n). n <= 10.
at::Tensor enumerate(int64_t n, const at::TensorOptions& options = at::kDouble);

// The trace: every level's subtree roots, left to right, (*batch, n).
Trace trace(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);
at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace);
// theta + G given the trace, (*batch, n), reparameterized.
at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, GeneratorOpt generator = c10::nullopt);

Family family();

}  // namespace structgrad::binary_tree
