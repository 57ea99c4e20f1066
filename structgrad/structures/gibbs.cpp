#include "structgrad/structures/gibbs.h"

#include <ATen/Parallel.h>

#include <limits>
#include <mutex>

namespace structgrad::gibbs {

at::Tensor sample_each(const char* function, const at::Tensor& theta, int64_t event_dim, const InstanceSampler& sample,
                       GeneratorOpt generator) {
  const at::Tensor weights = theta.detach().to(at::kDouble).contiguous();
  const int64_t event_numel = weights.flatten(-event_dim).size(-1);
  const int64_t instances = event_numel == 0 ? 0 : weights.numel() / event_numel;
  // One seed per instance, drawn serially from the generator (as torch's CPU samplers do).
  const at::Tensor seeds =
      at::randint(std::numeric_limits<int64_t>::max(), {instances}, generator, at::TensorOptions().dtype(at::kLong));
  at::Tensor out = at::zeros_like(weights);
  std::mutex first_error_mutex;
  std::string first_error;
  int64_t first_error_instance = instances;
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      solvers::RandomStream random(static_cast<uint64_t>(seeds.data_ptr<int64_t>()[b]));
      std::string error = sample(weights.data_ptr<double>() + b * event_numel, random,
                                 out.data_ptr<double>() + b * event_numel);
      if (error.empty()) continue;
      std::lock_guard<std::mutex> lock(first_error_mutex);
      if (b < first_error_instance) {
        first_error_instance = b;
        first_error = std::move(error);
      }
    }
  });
  TORCH_CHECK_VALUE(first_error.empty(), function, ": ", first_error, " (instance ", first_error_instance, ")");
  return out.to(theta.scalar_type());
}

solvers::TreeSampler tree_sampler(const char* function, const std::string& sampler) {
  solvers::TreeSampler parsed;
  TORCH_CHECK_VALUE(solvers::parse_tree_sampler(sampler.c_str(), parsed), function,
                    ": sampler must be \"auto\", \"wilson\" or \"sequential\", got \"", sampler, "\"");
  return parsed;
}

}  // namespace structgrad::gibbs
