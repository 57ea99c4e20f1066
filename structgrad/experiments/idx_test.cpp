#include "structgrad/experiments/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <vector>

namespace structgrad::experiments {
namespace {

void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  gzclose(file);
}

TEST(Idx, ReadsGzipImagesAndLabels) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string images = (dir / "structgrad_idx_images.gz").string();
  const std::string labels = (dir / "structgrad_idx_labels.gz").string();
  // Two 2x3 images and their labels.
  write_gzip(images, {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 0});
  write_gzip(labels, {0, 0, 8, 1, 0, 0, 0, 2, 7, 3});
  at::Tensor x = read_idx_images(images);
  EXPECT_EQ(x.sizes(), at::IntArrayRef({2, 6}));
  EXPECT_NEAR(x[0][2].item<float>(), 0.4f, 1e-6);
  EXPECT_EQ(x[1][0].item<float>(), 1.0f);
  at::Tensor y = read_idx_labels(labels);
  EXPECT_EQ(y[0].item<int64_t>(), 7);
  EXPECT_EQ(y[1].item<int64_t>(), 3);
  // A label file is not an image file.
  EXPECT_THROW(read_idx_images(labels), c10::Error);
  EXPECT_THROW(read_idx_images((dir / "structgrad_no_such_file").string()), c10::Error);
  std::remove(images.c_str());
  std::remove(labels.c_str());
}

}  // namespace
}  // namespace structgrad::experiments
