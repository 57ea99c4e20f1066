// Times two computations in the same benchmark iterations, ours then a baseline: a slow spell
// of the machine then lands on both sides instead of on whichever benchmark it overlapped. The
// benchmark must be registered with UseManualTime(): the reported time is ours, and the return
// value is our total time over the baseline's, for a counter.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>

namespace structgrad::bench {

template <typename Ours, typename Baseline>
double interleaved_ratio(benchmark::State& state, Ours&& ours, Baseline&& baseline) {
  double ours_total = 0, baseline_total = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    ours();
    const auto middle = std::chrono::steady_clock::now();
    baseline();
    const auto end = std::chrono::steady_clock::now();
    const double ours_seconds = std::chrono::duration<double>(middle - start).count();
    ours_total += ours_seconds;
    baseline_total += std::chrono::duration<double>(end - middle).count();
    state.SetIterationTime(ours_seconds);
  }
  return ours_total / baseline_total;
}

}  // namespace structgrad::bench
