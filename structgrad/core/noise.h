// The random perturbations every sampler uses.
//
// Noise is always drawn in float64 from the given generator (the default CPU generator when
// none is given) and then cast to the requested dtype, so a seed gives the same structure in
// float32 and float64, in C++ and in Python, at any thread count (torch's CPU samplers consume
// the generator serially).
#pragma once

#include <ATen/ATen.h>

namespace structgrad {

using GeneratorOpt = c10::optional<at::Generator>;

// E ~ Exp(1) i.i.d., shape `sizes`. Clamped away from 0 so that -log E stays finite.
at::Tensor exponential_noise(at::IntArrayRef sizes, const at::TensorOptions& options,
                             GeneratorOpt generator);

// G = -log E ~ Gumbel(0, 1): the same stream as exponential_noise, so that the perturb-and-MAP
// sample argmax(theta + G) and the Exponential-Min argmin(E / exp(theta)) coincide.
at::Tensor gumbel_noise(at::IntArrayRef sizes, const at::TensorOptions& options,
                        GeneratorOpt generator);

// L = G1 - G0 ~ Logistic(0, 1), the difference of the Gumbels of a binary choice's two values
// (G1 drawn first): theta + L > 0 is a Bernoulli(sigmoid(theta)) draw.
at::Tensor logistic_noise(at::IntArrayRef sizes, const at::TensorOptions& options,
                          GeneratorOpt generator);

}  // namespace structgrad
