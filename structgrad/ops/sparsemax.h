// Sparsemax: the Euclidean projection of z onto the probability simplex along the last
// dimension, argmin_{p in simplex} ||p - z||^2 (Martins & Astudillo, 2016). It is the
// regularized argmax with the Euclidean regularizer (seed 000, "relaxation by a strongly
// convex regularizer").
//
// Forward: the capped simplex's sort-based projection with k = 1 (solvers/capped_simplex.h),
// exact in one pass, O(n log n) per row under at::parallel_for; -inf entries stay at 0.
// Backward (closed form): with S the support {i : p_i > 0},
//   dL/dz_i = [i in S] (g_i - mean_{j in S} g_j).
//
//   at::Tensor p = structgrad::ops::sparsemax(z);   // z: (*, n) -> p: (*, n)
#pragma once

#include <ATen/ATen.h>

namespace structgrad::ops {

// Differentiable (hand-written backward). z: (*, n), floating, no NaN or +inf, every row with
// a finite entry.
at::Tensor sparsemax(const at::Tensor& z);

// The backward on its own: grad_z given the forward output p and the incoming gradient.
at::Tensor sparsemax_backward(const at::Tensor& grad_output, const at::Tensor& p);

}  // namespace structgrad::ops
