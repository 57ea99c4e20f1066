#include "structgrad/core/noise.h"

#include <limits>

namespace structgrad {

at::Tensor exponential_noise(at::IntArrayRef sizes, const at::TensorOptions& options,
                             GeneratorOpt generator) {
  // uniform_ draws from [0, 1); 1 - u lies in (0, 1], so -log(1 - u) is finite except at u -> 1.
  at::Tensor u = at::empty(sizes, at::TensorOptions().dtype(at::kDouble)).uniform_(0, 1, generator);
  at::Tensor e = at::neg(at::log1p(-u)).clamp_min_(std::numeric_limits<double>::min());
  return e.to(options.dtype());
}

at::Tensor gumbel_noise(at::IntArrayRef sizes, const at::TensorOptions& options,
                        GeneratorOpt generator) {
  at::Tensor e = exponential_noise(sizes, at::TensorOptions().dtype(at::kDouble), generator);
  return at::neg(at::log(e)).to(options.dtype());
}

at::Tensor logistic_noise(at::IntArrayRef sizes, const at::TensorOptions& options,
                          GeneratorOpt generator) {
  at::Tensor one = gumbel_noise(sizes, options, generator);  // drawn before the other: a fixed stream
  return one - gumbel_noise(sizes, options, generator);
}

}  // namespace structgrad
