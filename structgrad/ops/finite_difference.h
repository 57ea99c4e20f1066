// The finite-difference backward of a regularized argmax (seed 000, "three ways to
// backpropagate"), generic over the solver: it needs only the forward.
//
// A regularized argmax y(z) = argmax_y <z, y> - Omega(y) with Omega strictly convex is the
// gradient of the convex conjugate Omega*, so its Jacobian is the Hessian of Omega*: symmetric.
// The vector-Jacobian product is then the Jacobian-vector product, and one central difference
// along the incoming gradient v gives it:
//   grad_z = J^T v = J v ≈ (y(z + h v) - y(z - h v)) / (2 h).
// Step: per instance (each event of z), h = cbrt(eps) / max|v|, so that the perturbation h v
// has max-norm cbrt(eps) in z's units (6.1e-6 in float64, 4.9e-3 in float32). That step
// balances the O(h^2) truncation error against the O(eps / h) rounding error for a solver whose
// derivatives are O(1) in z, which holds for the relaxations since z = (theta + G) / tau
// already carries the temperature. Scaling by |v| keeps the result independent of the loss's
// scale. Two solver calls per backward, nothing stored but z; not twice differentiable.
// Exact up to that error only where the solver is a regularized argmax: for a truncated
// iteration (Sinkhorn before convergence) it is J v, not J^T v.
//
//   auto solver = [](const at::Tensor& z) { return at::softmax(z, -1); };
//   at::Tensor y = structgrad::ops::finite_difference_argmax(z, /*event_dim=*/1, solver);
#pragma once

#include <ATen/ATen.h>

#include <functional>

namespace structgrad::ops {

// The solver, batched over the leading dimensions: (*batch, *event) -> (*batch, *event). Called
// with gradients disabled, and again in the backward: it must own what it captures.
using RegularizedArgmax = std::function<at::Tensor(const at::Tensor& z)>;

// y = solver(z), differentiable in z by the central difference above. z: (*batch, *event) with
// event_dim >= 1 trailing event dimensions; entries of -inf (absent parts) stay -inf.
at::Tensor finite_difference_argmax(const at::Tensor& z, int64_t event_dim, RegularizedArgmax solver);

// The backward on its own: J v at z for the incoming gradient v of y's shape.
at::Tensor finite_difference_argmax_backward(const at::Tensor& z, const at::Tensor& v, int64_t event_dim,
                                             const RegularizedArgmax& solver);

}  // namespace structgrad::ops
