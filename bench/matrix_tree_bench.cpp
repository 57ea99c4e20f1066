// Log-stable matrix-tree marginals (forward + backward) against torch.linalg.slogdet + inv of
// the Laplacian minor on the same batch (the yardstick; that baseline is not
// log-stable), batch 128, n = 30. The undirected theorem is the target; the ratio is measured
// for the directed one (the arborescences' Laplacian, in-weights on the diagonal) as well.
//   build/structgrad_bench --benchmark_filter=MatrixTree   (MatrixTreeRatio: the two interleaved)
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include "bench/inputs.h"
#include "bench/interleaved.h"
#include "structgrad/structgrad.h"

namespace {

using structgrad::bench::graph_logits;

// One forward + backward of our marginals, and one run of the baseline.
void ours_once(const at::Tensor& theta, const at::Tensor& g, bool directed) {
  (structgrad::ops::matrix_tree_marginals(theta, directed) * g).sum().backward();
  theta.mutable_grad().reset();
}

void baseline_once(const at::Tensor& theta, bool directed) {
  at::Tensor w = (theta - std::get<0>(theta.flatten(1).max(-1)).view({-1, 1, 1})).exp();
  w = w - at::diag_embed(at::diagonal(w, 0, -2, -1));
  at::Tensor laplacian = at::diag_embed(w.sum(directed ? -2 : -1)) - w;
  at::Tensor minor = laplacian.narrow(-1, 1, w.size(-1) - 1).narrow(-2, 1, w.size(-1) - 1);
  benchmark::DoNotOptimize(at::linalg_slogdet(minor));
  benchmark::DoNotOptimize(at::linalg_inv(minor));
}

void BM_MatrixTreeMarginalsForwardBackward(benchmark::State& state) {
  at::Tensor theta = graph_logits(state.range(0), state.range(1), false, 0).requires_grad_(true);
  at::Tensor g = graph_logits(state.range(0), state.range(1), false, 1);
  for (auto _ : state) ours_once(theta, g, false);
}

void BM_MatrixTreeSlogdetInvBaseline(benchmark::State& state) {
  at::Tensor theta = graph_logits(state.range(0), state.range(1), false, 0);
  for (auto _ : state) baseline_once(theta, false);
}

// The ratio itself, ours and the baseline in the same iterations (bench/interleaved.h). The
// reported time is ours; the counter `ratio` is our total time over the baseline's.
// Arguments: batch, n, directed.
void BM_MatrixTreeRatioToSlogdetInv(benchmark::State& state) {
  const bool directed = state.range(2) != 0;
  at::Tensor theta = graph_logits(state.range(0), state.range(1), directed, 0).requires_grad_(true);
  at::Tensor plain = theta.detach();
  at::Tensor g = graph_logits(state.range(0), state.range(1), directed, 1);
  state.counters["ratio"] = structgrad::bench::interleaved_ratio(
      state, [&] { ours_once(theta, g, directed); }, [&] { baseline_once(plain, directed); });
}

BENCHMARK(BM_MatrixTreeMarginalsForwardBackward)->Args({128, 30})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatrixTreeSlogdetInvBaseline)->Args({128, 30})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatrixTreeRatioToSlogdetInv)
    ->Args({128, 30, 0})
    ->Args({128, 30, 1})
    ->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
