// Log-domain Sinkhorn: the entropy-regularized assignment
//   P(z) = argmax_{P doubly stochastic} <z, P> - sum_ij P_ij log P_ij,
// batched over the leading dimensions of z: (*batch, n, n) -> (*batch, n, n).
//
// Forward: P = exp(z_ij + f_i + g_j), with log-potentials f (rows) and g (columns) updated
// alternately as f_i = -logsumexp_j(z_ij + g_j), g_j = -logsumexp_i(z_ij + f_i). One iteration
// is a row then a column normalization, O(n^2); the result's columns sum to 1 exactly and its
// rows to within the iteration's convergence. With tolerance > 0 an instance stops after the
// first iteration whose max_i |sum_j P_ij - 1| < tolerance; `iterations` is then the cap.
//
// Backward, two forms:
//   "implicit" (default) differentiates the fixed point: with A = G * P (G the incoming
//     gradient), a = A 1, b = A^T 1, the duals (alpha, beta) solve [I P; P^T I] [alpha; beta] =
//     [a; b], and grad_z = P * (G - alpha_i - beta_j). The gauge (alpha + c, beta - c) is fixed
//     by solving (I - P^T P + 1 1^T / n) beta = b - P^T a with a pivot-dropping Cholesky, which
//     also returns a solution when P is (numerically) a permutation and the system is singular.
//     O(n^3) per instance, nothing stored but P: memory independent of `iterations`. Exact
//     once the forward has converged.
//   "unroll" runs the same iterations as composed torch ops and lets autograd differentiate
//     them: the exact gradient of the truncated forward, with memory linear in `iterations`.
//   "finite_difference" (ops/finite_difference.h) runs the forward twice more along the incoming
//     gradient: no Jacobian code, and like "implicit" exact (to the difference's error) once
//     converged, since only the fixed point's Jacobian is symmetric.
//
//   at::Tensor z = (theta + gumbel) / tau;                    // (B, n, n)
//   at::Tensor p = structgrad::ops::sinkhorn(z, 20);           // rows and columns sum to ~1
//   at::Tensor q = structgrad::ops::sinkhorn(z, 1000, 1e-10);  // converged: implicit is exact
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace structgrad::ops {

// z: (*batch, n, n) finite. iterations >= 1; tolerance >= 0 (0: always run `iterations`);
// backward "implicit", "unroll" or "finite_difference".
at::Tensor sinkhorn(const at::Tensor& z, int64_t iterations = 20, double tolerance = 0,
                    const std::string& backward = "implicit");

}  // namespace structgrad::ops
