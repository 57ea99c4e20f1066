// Exact Gibbs samples of trees against the marginals forward at the same size (issue 17's
// yardstick: within 3x), batch 256, n = 30, unit-scale logits, for spanning trees and for
// arborescences; and, for reference, the sequential matrix-tree sampler forced on the same logits
// (what "auto" falls back to where Wilson's walks would be long).
//   build/structgrad_bench --benchmark_filter=Gibbs   (ratio: sampler time over marginals time)
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include "bench/inputs.h"
#include "bench/interleaved.h"
#include "structgrad/structgrad.h"

namespace {

using structgrad::bench::graph_logits;

at::Tensor gibbs_sample(const at::Tensor& theta, bool directed, const std::string& sampler, at::Generator& g) {
  return directed ? structgrad::arborescence::gibbs_sample(theta, 0, g, sampler)
                  : structgrad::spanning_tree::gibbs_sample(theta, g, sampler);
}

at::Tensor marginals(const at::Tensor& theta, bool directed) {
  return directed ? structgrad::arborescence::marginals(theta, 0) : structgrad::spanning_tree::marginals(theta);
}

// Arguments: batch, n, directed, sequential (0: "auto").
void BM_GibbsSampleRatioToMarginals(benchmark::State& state) {
  const bool directed = state.range(2) != 0;
  const std::string sampler = state.range(3) != 0 ? "sequential" : "auto";
  at::Tensor theta = graph_logits(state.range(0), state.range(1), directed, 0);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(1);
  state.counters["ratio"] = structgrad::bench::interleaved_ratio(
      state, [&] { benchmark::DoNotOptimize(gibbs_sample(theta, directed, sampler, generator)); },
      [&] { benchmark::DoNotOptimize(marginals(theta, directed)); });
}

BENCHMARK(BM_GibbsSampleRatioToMarginals)
    ->Args({256, 30, 0, 0})
    ->Args({256, 30, 1, 0})
    ->Args({256, 30, 0, 1})
    ->Args({256, 30, 1, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
