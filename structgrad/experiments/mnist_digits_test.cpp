#include "structgrad/experiments/mnist_digits.h"

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "structgrad/testing/mnist_package.h"

namespace structgrad::experiments {
namespace {

TEST(MnistDigits, TheLastFifthOfEachDigitIsTheTestSet) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(0);
  // 12 images of digits 0-4, 8 of digits 5-9: test sets of round(12 / 5) = 2 and round(8 / 5) = 2.
  at::Tensor labels = at::cat({at::arange(60, at::kLong) % 5, 5 + at::arange(40, at::kLong) % 5});
  at::Tensor images = at::rand({100, 784}, generator);
  const auto root = testing::write_mnist_package("mnist_digits_test", images, labels);
  const ImageDataset data = load_mnist_digits(root.string(), /*binarize=*/false);
  EXPECT_EQ(data.train_images.sizes(), at::IntArrayRef({80, 784}));
  EXPECT_EQ(data.test_images.sizes(), at::IntArrayRef({20, 784}));
  EXPECT_TRUE(at::equal(at::bincount(data.train_labels),
                        at::tensor({10, 10, 10, 10, 10, 6, 6, 6, 6, 6}, at::kLong)));
  EXPECT_TRUE(at::equal(at::bincount(data.test_labels), at::full({10}, 2, at::kLong)));
  // Digit 0's last two images, in the package's order, open the test set.
  at::Tensor zeros = images.index_select(0, (labels == 0).nonzero().flatten());
  EXPECT_TRUE(at::equal(data.test_images.slice(0, 0, 2), zeros.slice(0, 10, 12)));
  EXPECT_TRUE(at::equal(data.train_images.slice(0, 0, 10), zeros.slice(0, 0, 10)));

  const ImageDataset binary = load_mnist_digits(root.string(), /*binarize=*/true);
  EXPECT_TRUE(at::equal(binary.train_images, (data.train_images > 0.5).to(at::kFloat)));
  std::filesystem::remove_all(root);
}

TEST(MnistDigits, MissingOrMalformedFilesAreNamed) {
  const auto root = testing::write_mnist_package("mnist_digits_bad_test", at::rand({10, 784}),
                                                 at::arange(10, at::kLong));
  try {
    load_mnist_digits((root / "missing").string(), true);
    FAIL() << "no error";
  } catch (const c10::ValueError& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find("no readable"), std::string::npos);
  }
  std::ofstream(root / "src" / "digits" / "3.json") << "{\"data\": [0.5, 0.25]}";
  try {
    load_mnist_digits(root.string(), true);
    FAIL() << "no error";
  } catch (const c10::ValueError& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find("not a positive multiple of 784"), std::string::npos);
  }
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace structgrad::experiments
