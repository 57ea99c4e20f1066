#include "structgrad/estimators/common.h"

#include <torch/torch.h>

#include "structgrad/core/check.h"

namespace structgrad::estimators::detail {

std::vector<int64_t> with_samples(int64_t samples, at::IntArrayRef sizes) {
  std::vector<int64_t> out{samples};
  out.insert(out.end(), sizes.begin(), sizes.end());
  return out;
}

at::Tensor repeat_samples(const at::Tensor& theta, int64_t num_samples) {
  return theta.unsqueeze(0).expand(with_samples(num_samples, theta.sizes()));
}

at::Tensor over_batch(const at::Tensor& per_structure, const std::vector<int64_t>& batch) {
  std::vector<int64_t> view{per_structure.size(0)}, sizes{per_structure.size(0)};
  for (int64_t s : batch) {
    view.push_back(1);
    sizes.push_back(s);
  }
  view.insert(view.end(), per_structure.sizes().begin() + 1, per_structure.sizes().end());
  sizes.insert(sizes.end(), per_structure.sizes().begin() + 1, per_structure.sizes().end());
  return per_structure.reshape(view).expand(sizes);
}

at::Tensor scored_parts(const Family& family, const at::Tensor& x) { return family.symmetric ? x.triu(1) : x; }

std::vector<int64_t> event_dims(const Family& family) {
  std::vector<int64_t> dims;
  for (int64_t d = 1; d <= family.event_dim; ++d) dims.push_back(-d);
  return dims;
}

at::Tensor evaluate(const char* estimator, const Family& family, const at::Tensor& theta,
                    const LossFn& f, const at::Tensor& structures) {
  TORCH_CHECK_VALUE(f, estimator, ": f is empty");
  at::Tensor losses = f(structures);
  std::vector<int64_t> expected{structures.size(0)};
  auto batch = family.batch_shape(theta);
  expected.insert(expected.end(), batch.begin(), batch.end());
  TORCH_CHECK_VALUE(losses.defined() && losses.sizes() == at::IntArrayRef(expected), estimator,
                    ": f must return losses of shape (samples, *batch) = ",
                    check::shape_string(expected), ", got ",
                    losses.defined() ? check::shape_string(losses.sizes()) : "undefined");
  TORCH_CHECK_VALUE(at::isFloatingType(losses.scalar_type()), estimator,
                    ": f must return floating-point losses");
  check::no_nan(estimator, "f(x)", losses);
  return losses;
}

void check_theta(const char* estimator, const Family& family, const at::Tensor& theta) {
  check::logits(estimator, "theta", theta, family.event_dim);
}

void require(bool has, const char* estimator, const Family& family, const char* what) {
  TORCH_CHECK_VALUE(has, estimator, ": family ", family.name, " has no ", what);
}

at::Tensor gradient(const at::Tensor& output, const at::Tensor& input, bool create_graph) {
  if (!output.requires_grad()) return at::zeros_like(input);
  auto g = torch::autograd::grad({output}, {input}, {}, /*retain_graph=*/true, create_graph, /*allow_unused=*/true)[0];
  return g.defined() ? g : at::zeros_like(input);
}

}  // namespace structgrad::estimators::detail
