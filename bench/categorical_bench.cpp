// Categorical kernels against composed-torch baselines in the same run.
//   build/structgrad_bench --benchmark_filter=Sparsemax
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include "structgrad/structgrad.h"

namespace {

at::Tensor category_logits(int64_t batch, int64_t n) {
  return at::randn({batch, n}, at::make_generator<at::CPUGeneratorImpl>(0), at::kFloat);
}

// Sparsemax written as plain differentiable torch ops: autograd differentiates through the sort.
at::Tensor composed_sparsemax(const at::Tensor& z) {
  at::Tensor sorted = std::get<0>(z.sort(-1, true));
  at::Tensor cumsum = sorted.cumsum(-1);
  at::Tensor rank = at::arange(1, z.size(-1) + 1, z.options());
  at::Tensor support = ((1 + rank * sorted) > cumsum).sum(-1, true);
  at::Tensor threshold = (cumsum.gather(-1, support - 1) - 1) / support.to(z.scalar_type());
  return (z - threshold).clamp_min(0);
}

void BM_SparsemaxForwardBackward(benchmark::State& state) {
  at::Tensor z = category_logits(state.range(0), state.range(1)).requires_grad_(true);
  for (auto _ : state) {
    structgrad::ops::sparsemax(z).pow(2).sum().backward();
    z.mutable_grad().reset();
  }
}
void BM_SparsemaxComposedBaseline(benchmark::State& state) {
  at::Tensor z = category_logits(state.range(0), state.range(1)).requires_grad_(true);
  for (auto _ : state) {
    composed_sparsemax(z).pow(2).sum().backward();
    z.mutable_grad().reset();
  }
}
BENCHMARK(BM_SparsemaxForwardBackward)->Args({1024, 100})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SparsemaxComposedBaseline)->Args({1024, 100})->Unit(benchmark::kMicrosecond);

void BM_CategoricalSample(benchmark::State& state) {
  at::Tensor theta = category_logits(state.range(0), state.range(1));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  for (auto _ : state) benchmark::DoNotOptimize(structgrad::categorical::sample(theta, gen));
}
// The floor: drawing the noise and taking an argmax, nothing else.
void BM_ArgmaxOfUniformBaseline(benchmark::State& state) {
  at::Tensor theta = category_logits(state.range(0), state.range(1));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  for (auto _ : state) benchmark::DoNotOptimize((theta + at::rand(theta.sizes(), gen, at::kDouble).to(at::kFloat)).argmax(-1));
}
BENCHMARK(BM_CategoricalSample)->Args({1024, 100})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ArgmaxOfUniformBaseline)->Args({1024, 100})->Unit(benchmark::kMicrosecond);

}  // namespace
