// Chu-Liu-Edmonds (solvers::max_arborescence) on dense random digraphs, measured in passes
// over the weight matrix: the counter `passes` is its time over the time of one scan for every
// vertex's best incoming edge (the algorithm's first step, O(n^2)), timed in the same
// iterations. A ratio that stays flat as n grows is the O(n^2) bound holding.
//   build/structgrad_bench --benchmark_filter=MaxArborescence
#include <benchmark/benchmark.h>

#include <limits>
#include <random>
#include <vector>

#include "bench/interleaved.h"
#include "structgrad/solvers/arborescence.h"

namespace {

// Every vertex's best incoming edge, by one column-wise scan of w.
int64_t best_incoming_edges(const std::vector<double>& w, int64_t n) {
  std::vector<double> best(n, -std::numeric_limits<double>::infinity());
  std::vector<int64_t> source(n, -1);
  for (int64_t u = 0; u < n; ++u)
    for (int64_t v = 0; v < n; ++v)
      if (u != v && w[u * n + v] > best[v]) {
        best[v] = w[u * n + v];
        source[v] = u;
      }
  int64_t sum = 0;
  for (int64_t s : source) sum += s;
  return sum;
}

void BM_MaxArborescence(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::mt19937_64 rng(0);
  std::normal_distribution<double> normal;
  std::vector<double> w(n * n);
  for (double& x : w) x = normal(rng);
  state.counters["passes"] = structgrad::bench::interleaved_ratio(
      state, [&] { benchmark::DoNotOptimize(structgrad::solvers::max_arborescence(w.data(), n, 0)); },
      [&] { benchmark::DoNotOptimize(best_incoming_edges(w, n)); });
}

BENCHMARK(BM_MaxArborescence)->Arg(30)->Arg(100)->Arg(300)->Arg(1000)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
