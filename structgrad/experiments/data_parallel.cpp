#include "structgrad/experiments/data_parallel.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>

namespace structgrad::experiments {
namespace {

// torchrun's variables; all four or none.
constexpr const char* kEnvironment[] = {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"};

int64_t integer_variable(const char* name, int64_t low, int64_t high) {
  const std::string text = std::getenv(name);
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  TORCH_CHECK_VALUE(!text.empty() && *end == '\0' && value >= low && value <= high, "data parallel: ", name,
                    " must be an integer in [", low, ", ", high, "], got '", text, "'");
  return value;
}

}  // namespace

struct DataParallel::Group {
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
};

DataParallel& DataParallel::process() {
  static DataParallel instance;
  return instance;
}

DataParallel::DataParallel() {
  int given = 0;
  for (const char* name : kEnvironment) given += std::getenv(name) != nullptr;
  if (given == 0) {
    share_ = 1;
    return;
  }
  std::string missing;
  for (const char* name : kEnvironment)
    if (!std::getenv(name)) missing += std::string(missing.empty() ? "" : ", ") + name;
  TORCH_CHECK_VALUE(missing.empty(), "data parallel: RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT are set together "
                    "or not at all; missing ", missing);
  world_size_ = integer_variable("WORLD_SIZE", 1, 1 << 20);
  rank_ = integer_variable("RANK", 0, world_size_ - 1);
  const int64_t port = integer_variable("MASTER_PORT", 1, 65535);
  const std::string address = std::getenv("MASTER_ADDR");
  TORCH_CHECK_VALUE(!address.empty(), "data parallel: MASTER_ADDR is empty");
  share_ = 1.0 / double(world_size_);
  if (world_size_ == 1) return;

  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(port);
  store_options.isServer = rank_ == 0;
  store_options.numWorkers = static_cast<int>(world_size_);
  store_options.timeout = std::chrono::minutes(5);
  auto store = c10::make_intrusive<c10d::TCPStore>(address, store_options);
  auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::minutes(30));
  // GLOO_SOCKET_IFNAME picks the network interface, as it does for torch.distributed.
  const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
  options->devices.push_back(interface && *interface ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                                     : c10d::ProcessGroupGloo::createDefaultDevice());
  group_ = std::make_unique<Group>();
  group_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, int(rank_), int(world_size_), options);
}

DataParallel::~DataParallel() = default;

at::Tensor DataParallel::shard(const at::Tensor& batch) {
  TORCH_CHECK_VALUE(batch.dim() >= 1, "DataParallel::shard: batch must have a row dimension");
  const int64_t rows = batch.size(0);
  if (alone()) {
    share_ = 1;
    return batch;
  }
  TORCH_CHECK_VALUE(rows >= world_size_, "DataParallel::shard: a batch of ", rows, " rows cannot be split over ",
                    world_size_, " processes");
  const int64_t base = rows / world_size_, extra = rows % world_size_;
  const int64_t begin = rank_ * base + std::min(rank_, extra);
  const int64_t count = base + (rank_ < extra ? 1 : 0);
  share_ = double(count) / double(rows);
  return batch.narrow(0, begin, count);
}

void DataParallel::average_gradients(const std::vector<at::Tensor>& parameters) {
  if (alone()) return;
  // One all-reduce per dtype, over the concatenated gradients.
  std::map<at::ScalarType, std::vector<at::Tensor>> by_dtype;
  for (const at::Tensor& parameter : parameters) {
    at::Tensor& grad = const_cast<at::Tensor&>(parameter).mutable_grad();
    if (!grad.defined()) grad = at::zeros_like(parameter);
    by_dtype[grad.scalar_type()].push_back(grad);
  }
  for (auto& [dtype, grads] : by_dtype) {
    std::vector<at::Tensor> flat;
    for (const at::Tensor& grad : grads) flat.push_back(grad.reshape(-1));
    std::vector<at::Tensor> buffer = {at::cat(flat).mul_(share_)};
    group_->gloo->allreduce(buffer)->wait();
    int64_t offset = 0;
    for (at::Tensor& grad : grads) {
      grad.copy_(buffer[0].narrow(0, offset, grad.numel()).view(grad.sizes()));
      offset += grad.numel();
    }
  }
}

at::Generator DataParallel::batch_generator(at::Generator& generator) {
  if (alone()) return generator;
  const uint64_t own_seed = generator.current_seed();
  std::vector<at::Tensor> seed = {at::tensor({static_cast<int64_t>(own_seed)}, at::kLong)};
  group_->gloo->broadcast(seed)->wait();
  const auto shared_seed = static_cast<uint64_t>(seed[0].item<int64_t>());
  // A different stream per process, none of them the batch order's.
  generator.set_current_seed(shared_seed + uint64_t(rank_ + 1) * 0x9E3779B97F4A7C15ULL);
  return at::make_generator<at::CPUGeneratorImpl>(shared_seed);
}

double parameter_checksum(const std::vector<at::Tensor>& parameters) {
  double sum = 0;
  for (const at::Tensor& parameter : parameters) sum += parameter.detach().to(at::kDouble).sum().item<double>();
  return sum;
}

}  // namespace structgrad::experiments
