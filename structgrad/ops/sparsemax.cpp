#include "structgrad/ops/sparsemax.h"

#include <torch/torch.h>

namespace structgrad::ops {
namespace {

at::Tensor sparsemax_forward(const at::Tensor& z) {
  // Shift by the row maximum: the projection is invariant to it, and the cumulative sums stay
  // small when the logits are large.
  at::Tensor shifted = z - std::get<0>(z.max(-1, /*keepdim=*/true));
  at::Tensor sorted = std::get<0>(shifted.sort(-1, /*descending=*/true));
  at::Tensor cumsum = sorted.cumsum(-1);
  const int64_t n = z.size(-1);
  at::Tensor rank = at::arange(1, n + 1, z.options());
  // Support size k(z) = max{k : 1 + k z_(k) > sum_{j<=k} z_(j)}; the condition holds for a prefix.
  at::Tensor in_support = (1 + rank * sorted) > cumsum;
  at::Tensor support_size = in_support.sum(-1, /*keepdim=*/true);
  at::Tensor threshold = (cumsum.gather(-1, support_size - 1) - 1) / support_size.to(z.scalar_type());
  return (shifted - threshold).clamp_min(0);
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
  return SparsemaxFunction::apply(z);
}

}  // namespace structgrad::ops
