#include "structgrad/structures/graph.h"

#include <atomic>

#include "structgrad/ops/check.h"

namespace structgrad::graph {

void check_weights(const char* function, const at::Tensor& theta, bool symmetric) {
  check::logits(function, "theta", theta, 2);
  TORCH_CHECK_VALUE(theta.size(-1) == theta.size(-2), function, ": theta must be square (*batch, n, n), got ",
                    check::shape_string(theta.sizes()));
  TORCH_CHECK_VALUE(theta.max().item<double>() != INFINITY, function, ": theta contains +inf");
  if (!symmetric) return;
  at::Tensor transposed = theta.transpose(-1, -2);
  at::Tensor finite = at::isfinite(theta);
  const bool same_edges = at::equal(finite, at::isfinite(transposed));
  at::Tensor a = theta.masked_fill(~finite, 0), b = transposed.masked_fill(~finite, 0);
  const bool close = ((a - b).abs() <= 1e-9 * at::maximum(a.abs(), b.abs()).clamp_min(1)).all().item<bool>();
  TORCH_CHECK_VALUE(same_edges && close, function,
                    ": theta must be symmetric (an undirected edge has one weight), but theta[i, j] != theta[j, i]");
}

at::Tensor edge_noise(const at::Tensor& theta, bool symmetric, GeneratorOpt generator) {
  at::Tensor g = gumbel_noise(theta.sizes(), theta.options(), generator);
  if (!symmetric) return g;
  at::Tensor upper = g.triu(1);
  return upper + upper.transpose(-1, -2);
}

at::Tensor solve_each(const at::Tensor& theta, const InstanceSolver& solve, const char* failure) {
  at::Tensor weights = theta.detach().to(at::kDouble).contiguous();
  const int64_t n = weights.size(-1), instances = weights.numel() / (n * n);
  at::Tensor out = at::zeros_like(weights);
  std::atomic<bool> failed{false};
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b)
      if (!solve(weights.data_ptr<double>() + b * n * n, n, out.data_ptr<double>() + b * n * n)) failed = true;
  });
  TORCH_CHECK_VALUE(!failed, failure);
  return out.to(theta.scalar_type());
}

}  // namespace structgrad::graph
