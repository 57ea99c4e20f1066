// The permutation family's kernels against their baselines, in one run:
//   * Hungarian (permutation::map) on a batch of 256 50 x 50 instances; bench/compare.py
//     times the same batch against a Python loop over scipy.optimize.linear_sum_assignment;
//   * Sinkhorn forward + backward with the implicit (fixed-point) backward against the same
//     iterations composed of torch ops and differentiated by autograd ("unroll"). The
//     held_MiB counter is the heap held between forward and backward (the autograd graph's
//     saved tensors): constant in the iteration count for the implicit form, linear for unroll.
//   build/structgrad_bench --benchmark_filter='Hungarian|Sinkhorn'
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include "structgrad/structgrad.h"

namespace {

at::Tensor scores(std::vector<int64_t> sizes, at::ScalarType dtype = at::kFloat) {
  return at::randn(sizes, at::make_generator<at::CPUGeneratorImpl>(0), at::kDouble).to(dtype);
}

double heap_bytes() {
  const struct mallinfo2 info = mallinfo2();
  return double(info.uordblks + info.hblkhd);
}

void BM_HungarianMap(benchmark::State& state) {
  at::Tensor theta = scores({state.range(0), state.range(1), state.range(1)}, at::kDouble);
  for (auto _ : state) benchmark::DoNotOptimize(structgrad::permutation::map(theta));
}
BENCHMARK(BM_HungarianMap)->Args({256, 50})->Unit(benchmark::kMillisecond);

void sinkhorn_forward_backward(benchmark::State& state, const char* backward) {
  const int64_t batch = state.range(0), n = state.range(1), iterations = state.range(2);
  at::Tensor z = scores({batch, n, n}).requires_grad_(true);
  at::Tensor g = scores({batch, n, n});
  double held = 0;
  for (auto _ : state) {
    const double before = heap_bytes();
    at::Tensor loss = (structgrad::ops::sinkhorn(z, iterations, 0, backward) * g).sum();
    held = heap_bytes() - before;
    loss.backward();
    z.mutable_grad().reset();
  }
  state.counters["held_MiB"] = held / (1 << 20);
}
void BM_SinkhornImplicit(benchmark::State& state) { sinkhorn_forward_backward(state, "implicit"); }
void BM_SinkhornComposedTorchOps(benchmark::State& state) { sinkhorn_forward_backward(state, "unroll"); }
BENCHMARK(BM_SinkhornImplicit)->Args({64, 50, 20})->Args({64, 50, 200})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SinkhornComposedTorchOps)->Args({64, 50, 20})->Args({64, 50, 200})->Unit(benchmark::kMillisecond);

}  // namespace
