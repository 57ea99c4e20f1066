// Readers for the IDX files of MNIST-style data sets (plain or gzip-compressed), such as
// Fashion-MNIST from the Debian package dataset-fashion-mnist.
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace structgrad::experiments {

// Images as a float32 tensor (N, rows * cols) scaled to [0, 1].
at::Tensor read_idx_images(const std::string& path);

// Labels as an int64 tensor (N).
at::Tensor read_idx_labels(const std::string& path);

struct ImageDataset {
  at::Tensor train_images, train_labels, test_images, test_labels;
};

// Fashion-MNIST from `directory` (train-images-idx3-ubyte.gz, ...), binarized at 0.5 when
// `binarize` (the seed 003 setting).
ImageDataset load_fashion_mnist(const std::string& directory, bool binarize);

// The Debian package's location.
inline const char* default_fashion_mnist_directory() { return "/usr/share/datasets/fashion-mnist"; }

}  // namespace structgrad::experiments
