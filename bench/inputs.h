// Inputs that several benchmarks draw the same way.
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>

namespace structgrad::bench {

// Edge logits (batch, n, n) of a complete graph, N(0, 1) from a fixed seed; symmetric unless
// `directed`.
inline at::Tensor graph_logits(int64_t batch, int64_t n, bool directed, uint64_t seed) {
  at::Tensor t = at::randn({batch, n, n}, at::make_generator<at::CPUGeneratorImpl>(seed), at::kDouble);
  return directed ? t : (t + t.transpose(-1, -2)) / 2;
}

}  // namespace structgrad::bench
