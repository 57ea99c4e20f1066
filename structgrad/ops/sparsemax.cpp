#include "structgrad/ops/sparsemax.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "structgrad/core/check.h"
#include "structgrad/solvers/capped_simplex.h"

namespace structgrad::ops {
namespace {

// Row by row: the simplex is the capped simplex with k = 1 (sum x = 1 caps every x_i at 1),
// whose projection is exact in one pass (solvers/capped_simplex.h) and leaves -inf entries at
// 0 as long as one entry is finite.
at::Tensor sparsemax_forward(const at::Tensor& z) {
  at::Tensor in = z.detach().to(at::kDouble).contiguous();
  const int64_t n = in.size(-1), rows = in.numel() / n;
  at::Tensor out = at::empty_like(in);
  std::atomic<bool> empty_row{false};
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> shifted(n);
    for (int64_t r = begin; r < end; ++r) {
      const double* row = in.data_ptr<double>() + r * n;
      if (*std::max_element(row, row + n) == -INFINITY) {
        empty_row = true;
        continue;
      }
      // Shifted by the maximum: the same projection, exact at any scale (ties at 1e16 included).
      solvers::shift_by_kth_largest(row, n, 1, shifted.data());
      solvers::project_onto_capped_simplex(shifted.data(), n, 1, out.data_ptr<double>() + r * n);
    }
  });
  TORCH_CHECK_VALUE(!empty_row, "sparsemax: a row of z is -inf everywhere (the simplex needs one finite entry)");
  return out.to(z.scalar_type());
}

class SparsemaxFunction : public torch::autograd::Function<SparsemaxFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& z) {
    at::Tensor p = sparsemax_forward(z);
    ctx->save_for_backward({p});
    return p;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad_outputs) {
    at::Tensor p = ctx->get_saved_variables()[0];
    return {sparsemax_backward(grad_outputs[0], p)};
  }
};

}  // namespace

at::Tensor sparsemax_backward(const at::Tensor& grad_output, const at::Tensor& p) {
  at::Tensor support = (p > 0).to(grad_output.scalar_type());
  at::Tensor support_mean =
      (grad_output * support).sum(-1, /*keepdim=*/true) / support.sum(-1, /*keepdim=*/true);
  return support * (grad_output - support_mean);
}

at::Tensor sparsemax(const at::Tensor& z) {
  TORCH_CHECK_VALUE(z.dim() >= 1 && z.numel() > 0, "sparsemax: z must be a non-empty tensor");
  check::logits("sparsemax", "z", z, 1);
  TORCH_CHECK_VALUE(z.max().item<double>() != INFINITY, "sparsemax: z contains +inf");
  return SparsemaxFunction::apply(z);
}

}  // namespace structgrad::ops
