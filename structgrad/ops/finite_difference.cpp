#include "structgrad/ops/finite_difference.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "structgrad/core/check.h"

namespace structgrad::ops {
namespace {

// A custom Node rather than torch::autograd::Function: the saved context holds only IValues,
// and the solver is an arbitrary std::function.
class FiniteDifferenceBackward : public torch::autograd::Node {
 public:
  FiniteDifferenceBackward(at::Tensor z, int64_t event_dim, RegularizedArgmax solver)
      : z_(std::move(z)), event_dim_(event_dim), solver_(std::move(solver)) {}

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    if (!grads[0].defined()) return {at::Tensor()};
    return {finite_difference_argmax_backward(z_, grads[0], event_dim_, solver_)};
  }
  std::string name() const override { return "FiniteDifferenceArgmaxBackward"; }
  void release_variables() override { z_.reset(); }

 private:
  at::Tensor z_;
  int64_t event_dim_;
  RegularizedArgmax solver_;
};

double step_norm(at::ScalarType dtype) {
  const double eps = dtype == at::kDouble ? std::numeric_limits<double>::epsilon()
                                          : double(std::numeric_limits<float>::epsilon());
  return std::cbrt(eps);
}

}  // namespace

at::Tensor finite_difference_argmax_backward(const at::Tensor& z, const at::Tensor& v, int64_t event_dim,
                                             const RegularizedArgmax& solver) {
  torch::NoGradGuard no_grad;
  at::Tensor direction = v.expand_as(z);
  std::vector<int64_t> event_dims(event_dim);
  std::iota(event_dims.begin(), event_dims.end(), z.dim() - event_dim);
  // Absent parts (z = -inf) have no meaningful gradient; keep them out of the step size.
  direction = direction.masked_fill(at::isinf(z), 0);
  at::Tensor largest = at::amax(direction.abs(), event_dims, /*keepdim=*/true);
  // An instance with v = 0 has J v = 0; any finite h gives that.
  at::Tensor h = at::where(largest > 0, step_norm(z.scalar_type()) / largest, at::ones_like(largest));
  at::Tensor perturbation = h * direction;
  return (solver(z + perturbation) - solver(z - perturbation)) / (2 * h);
}

at::Tensor finite_difference_argmax(const at::Tensor& z, int64_t event_dim, RegularizedArgmax solver) {
  check::logits("finite_difference_argmax", "z", z, event_dim);
  TORCH_CHECK_VALUE(event_dim >= 1, "finite_difference_argmax: event_dim must be at least 1, got ", event_dim);
  TORCH_CHECK_VALUE(solver, "finite_difference_argmax: solver is empty");
  at::Tensor input = z.detach();
  at::Tensor y;
  {
    torch::NoGradGuard no_grad;
    // detach: y must not be a view of anything for the autograd history set below.
    y = solver(input).detach();
  }
  TORCH_CHECK_VALUE(y.sizes() == z.sizes(), "finite_difference_argmax: the solver must return z's shape ",
                    check::shape_string(z.sizes()), ", got ", check::shape_string(y.sizes()));
  if (torch::autograd::compute_requires_grad(z)) {
    auto node = std::shared_ptr<FiniteDifferenceBackward>(
        new FiniteDifferenceBackward(input, event_dim, std::move(solver)), torch::autograd::deleteNode);
    node->set_next_edges(torch::autograd::collect_next_edges(z));
    torch::autograd::set_history(y, node);
  }
  return y;
}

}  // namespace structgrad::ops
