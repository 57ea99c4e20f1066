// The E.F. entropy top-k DP (marginals forward + hand-written backward) against the same DP
// unrolled as composed torch ops with autograd's double backward, in one run; and the
// threshold regularizers' forward (ops::regularized_topk) measured in sorts of the same batch
// (at::sort, timed in the same iterations: the counter `sorts`).
//   build/structgrad_bench --benchmark_filter='KSubset|RegularizedTopk'
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include "bench/interleaved.h"
#include "structgrad/structgrad.h"

namespace {

at::Tensor item_scores(int64_t batch, int64_t n) {
  return at::randn({batch, n}, at::make_generator<at::CPUGeneratorImpl>(0), at::kDouble);
}

// log Z by the unrolled log-space DP: one (batch, k+1) logaddexp per item.
at::Tensor unrolled_log_partition(const at::Tensor& z, int64_t k) {
  at::Tensor alpha = at::full({z.size(0), k + 1}, -1e4, z.options());
  alpha.select(-1, 0).fill_(0);
  for (int64_t j = 0; j < z.size(1); ++j) {
    at::Tensor take = at::cat({at::full_like(alpha.narrow(-1, 0, 1), -1e4),
                               alpha.narrow(-1, 0, k) + z.select(-1, j).unsqueeze(-1)}, -1);
    alpha = at::logaddexp(alpha, take);
  }
  return alpha.select(-1, k);
}

void BM_KSubsetMarginalsForwardBackward(benchmark::State& state) {
  at::Tensor z = item_scores(state.range(0), state.range(1)).requires_grad_(true);
  at::Tensor g = item_scores(state.range(0), state.range(1));
  for (auto _ : state) {
    (structgrad::ops::ksubset_marginals(z, state.range(2)) * g).sum().backward();
    z.mutable_grad().reset();
  }
}
void BM_KSubsetMarginalsUnrolledAutogradBaseline(benchmark::State& state) {
  at::Tensor z = item_scores(state.range(0), state.range(1)).requires_grad_(true);
  at::Tensor g = item_scores(state.range(0), state.range(1));
  for (auto _ : state) {
    auto mu = torch::autograd::grad({unrolled_log_partition(z, state.range(2)).sum()}, {z}, {}, true, true)[0];
    (mu * g).sum().backward();
    z.mutable_grad().reset();
  }
}
BENCHMARK(BM_KSubsetMarginalsForwardBackward)->Args({128, 100, 10})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_KSubsetMarginalsUnrolledAutogradBaseline)->Args({128, 100, 10})->Unit(benchmark::kMillisecond);

// Arguments: batch, n, k, regularizer (0 euclidean, 1 categorical_entropy, 2 binary_entropy).
void BM_RegularizedTopkForwardInSorts(benchmark::State& state) {
  static const char* const kRegularizers[] = {"euclidean", "categorical_entropy", "binary_entropy"};
  const char* regularizer = kRegularizers[state.range(3)];
  at::Tensor z = item_scores(state.range(0), state.range(1)) * 3;
  state.SetLabel(regularizer);
  state.counters["sorts"] = structgrad::bench::interleaved_ratio(
      state, [&] { benchmark::DoNotOptimize(structgrad::ops::regularized_topk(z, state.range(2), regularizer)); },
      [&] { benchmark::DoNotOptimize(at::sort(z, -1, true)); });
}
BENCHMARK(BM_RegularizedTopkForwardInSorts)
    ->ArgsProduct({{256}, {1000}, {10}, {0, 1, 2}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
