// What the graph families (spanning_tree, arborescence) share: checking dense weight
// matrices, per-edge noise, and running a plain-C++ solver on every instance of a batch.
#pragma once

#include <ATen/ATen.h>

#include <functional>

#include "structgrad/core/noise.h"

namespace structgrad::graph {

// theta: (*batch, n, n) log-weights, floating, no NaN or +inf (-inf: absent edge). With
// `symmetric`, theta[i, j] == theta[j, i] up to 1e-9 relative to the larger magnitude (no
// absolute floor: exact equality always passes, a finite weight against -inf never); the error
// names the first offending entry.
void check_weights(const char* function, const at::Tensor& theta, bool symmetric);

// Gumbel noise of theta's shape; with `symmetric`, one draw per undirected edge, mirrored.
at::Tensor edge_noise(const at::Tensor& theta, bool symmetric, GeneratorOpt generator);

// Runs solve(weights, n, indicator) on every (n, n) instance in float64 and returns the 0/1
// indicators in theta's dtype. solve returns false when the instance has no solution, and
// then `failure` is raised.
using InstanceSolver = std::function<bool(const double* weights, int64_t n, double* indicator)>;
at::Tensor solve_each(const at::Tensor& theta, const InstanceSolver& solve, const char* failure);

}  // namespace structgrad::graph
