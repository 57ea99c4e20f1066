#include "structgrad/experiments/idx.h"

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <vector>

namespace structgrad::experiments {
namespace {

// The whole file, decompressed when it is gzip (gzread reads plain files unchanged).
std::vector<uint8_t> read_file(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  TORCH_CHECK(file != nullptr, "read_idx: cannot open '", path, "'");
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  int got;
  while ((got = gzread(file, buffer, sizeof(buffer))) > 0) bytes.insert(bytes.end(), buffer, buffer + got);
  gzclose(file);
  TORCH_CHECK(got == 0, "read_idx: error while reading '", path, "'");
  return bytes;
}

uint32_t big_endian(const std::vector<uint8_t>& bytes, size_t offset) {
  return (uint32_t(bytes[offset]) << 24) | (uint32_t(bytes[offset + 1]) << 16) |
         (uint32_t(bytes[offset + 2]) << 8) | uint32_t(bytes[offset + 3]);
}

// The header of an unsigned-byte IDX file with `dims` dimensions; returns the sizes.
std::vector<int64_t> idx_header(const std::vector<uint8_t>& bytes, int dims, const std::string& path) {
  TORCH_CHECK(bytes.size() >= size_t(4 + 4 * dims), "read_idx: '", path, "' is too short");
  TORCH_CHECK(bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08 && bytes[3] == dims, "read_idx: '",
              path, "' is not an unsigned-byte IDX file with ", dims, " dimension(s)");
  std::vector<int64_t> sizes;
  int64_t count = 1;
  for (int d = 0; d < dims; ++d) {
    sizes.push_back(big_endian(bytes, 4 + 4 * d));
    count *= sizes.back();
  }
  TORCH_CHECK(bytes.size() == size_t(4 + 4 * dims + count), "read_idx: '", path,
              "' has the wrong size for its header");
  return sizes;
}

at::Tensor payload(const std::vector<uint8_t>& bytes, const std::vector<int64_t>& sizes) {
  const size_t header = 4 + 4 * sizes.size();
  return at::from_blob(const_cast<uint8_t*>(bytes.data() + header), sizes, at::kByte).clone();
}

}  // namespace

at::Tensor read_idx_images(const std::string& path) {
  auto bytes = read_file(path);
  auto sizes = idx_header(bytes, 3, path);
  return payload(bytes, sizes).view({sizes[0], sizes[1] * sizes[2]}).to(at::kFloat) / 255.0;
}

at::Tensor read_idx_labels(const std::string& path) {
  auto bytes = read_file(path);
  auto sizes = idx_header(bytes, 1, path);
  return payload(bytes, sizes).to(at::kLong);
}

ImageDataset load_fashion_mnist(const std::string& directory, bool binarize) {
  ImageDataset data{read_idx_images(directory + "/train-images-idx3-ubyte.gz"),
                    read_idx_labels(directory + "/train-labels-idx1-ubyte.gz"),
                    read_idx_images(directory + "/t10k-images-idx3-ubyte.gz"),
                    read_idx_labels(directory + "/t10k-labels-idx1-ubyte.gz")};
  if (binarize) {
    data.train_images = (data.train_images > 0.5).to(at::kFloat);
    data.test_images = (data.test_images > 0.5).to(at::kFloat);
  }
  return data;
}

}  // namespace structgrad::experiments
