// Data-parallel training through torch.distributed's gloo backend, for every experiment that
// trains through `train_steps` (training.h).
//
// A process finds its place as torchrun tells it: RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT
// (all four, or none: then it trains alone and nothing here communicates). Every process builds
// the same model from the same seed and draws the same global batches; each trains on its shard of
// a batch (`shard`), and after the backward pass the gradients are summed over processes, each
// weighted by its shard's share of the batch (`average_gradients`): the gradient of the mean loss
// over the global batch when every process's loss is the mean over its shard. The optimizers then
// take the same step everywhere, so the parameters stay equal without being sent.
//
// What is drawn: the batch order comes from a generator seeded alike in every process
// (`batch_generator`); the noise of the estimators, drawn from the experiment's own generator,
// is made independent between processes by reseeding that generator per rank.
//
// Only the first process (rank 0) writes results and prints; every process evaluates (the same
// numbers, since the parameters are equal).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace structgrad::experiments {

class DataParallel {
 public:
  // The process's group, made from the environment on first use. A partial or malformed
  // environment is an error naming the variable.
  static DataParallel& process();

  int64_t rank() const { return rank_; }
  int64_t world_size() const { return world_size_; }
  bool alone() const { return world_size_ == 1; }
  bool writes_results() const { return rank_ == 0; }

  // This process's rows of a global batch (a vector of example indices, or any tensor along
  // dim 0): a contiguous block, the first (rows % world_size) processes one row more. Records the
  // block's share of the batch for average_gradients. A batch of fewer rows than processes is an
  // error.
  at::Tensor shard(const at::Tensor& batch);

  // Replaces every parameter's gradient by the share-weighted sum over processes (see above). A
  // parameter without a gradient counts as a zero one. Nothing happens when alone.
  void average_gradients(const std::vector<at::Tensor>& parameters);

  // The generator to draw the batch order from: `generator` itself when alone; otherwise a new
  // generator seeded with rank 0's seed of `generator`, with `generator` reseeded per rank so that
  // the noise drawn from it differs between processes.
  at::Generator batch_generator(at::Generator& generator);

  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

 private:
  DataParallel();
  struct Group;  // the gloo process group (data_parallel.cpp)
  std::unique_ptr<Group> group_;
  int64_t rank_ = 0, world_size_ = 1;
  double share_;  // of the last shard; 1 / world_size until one is taken
};

// The sum of every element of `parameters` in float64: summary.json's "parameter_checksum", by
// which two runs (one process against several, say) are compared.
double parameter_checksum(const std::vector<at::Tensor>& parameters);

}  // namespace structgrad::experiments
