// A tiny image data set for experiment smoke tests: a VAE can learn it in a few steps.
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "structgrad/experiments/idx.h"

namespace structgrad::testing {

// 256 noisy copies of 4 random 16-pixel prototypes (intensities 0.05 or 0.95); the test set is
// the first 64 of them.
inline experiments::ImageDataset prototype_images() {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(0);
  at::Tensor prototypes = (at::rand({4, 16}, generator) > 0.5).to(at::kFloat);
  at::Tensor copies = prototypes.index_select(0, at::randint(4, {256}, generator));
  at::Tensor images = (copies - 0.05).abs() * 0.9 + 0.05;
  return {images, {}, images.slice(0, 0, 64), {}};
}

}  // namespace structgrad::testing
