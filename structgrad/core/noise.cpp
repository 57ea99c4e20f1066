#include "structgrad/core/noise.h"

#include <limits>

namespace structgrad {

at::Tensor exponential_noise(at::IntArrayRef sizes, const at::TensorOptions& options,
                             GeneratorOpt generator) {
  // uniform_ draws from [0, 1); 1 - u lies in (0, 1], so -log(1 - u) is finite except at u -> 1.
  // One buffer transformed in place: an out-of-place step would allocate a fresh tensor of the
  // noise's size, and at sampler sizes its page faults cost more than the arithmetic.
  at::Tensor e = at::empty(sizes, at::TensorOptions().dtype(at::kDouble)).uniform_(0, 1, generator);
  e.neg_().log1p_().neg_().clamp_min_(std::numeric_limits<double>::min());
  return e.to(options.dtype());
}

at::Tensor gumbel_noise(at::IntArrayRef sizes, const at::TensorOptions& options,
                        GeneratorOpt generator) {
  at::Tensor e = exponential_noise(sizes, at::TensorOptions().dtype(at::kDouble), generator);
  return e.log_().neg_().to(options.dtype());
}

at::Tensor logistic_noise(at::IntArrayRef sizes, const at::TensorOptions& options,
                          GeneratorOpt generator) {
  at::Tensor one = gumbel_noise(sizes, options, generator);  // drawn before the other: a fixed stream
  return one - gumbel_noise(sizes, options, generator);
}

}  // namespace structgrad
