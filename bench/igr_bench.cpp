// IGR against the ExpConcrete (Gumbel-softmax) baseline on the same batch, forward and backward,
// at the seed 004 VAE's latent shape (batch 64, 30 variables, 10 categories; 9 Gaussian
// dimensions each for IGR): one reparameterized draw with its log-density, and one draw with
// the KL to a prior.
//   build/structgrad_bench --benchmark_filter=Relaxation
// Compare IGR* with ExpConcreteBaseline from the same run (ratios, not absolute times).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include "structgrad/structgrad.h"

namespace {

namespace dist = structgrad::distributions;

constexpr int64_t kBatch = 64, kVariables = 30, kCategories = 10;

at::Tensor parameters(uint64_t seed, int64_t width) {
  return at::randn({kBatch, kVariables, width}, at::make_generator<at::CPUGeneratorImpl>(seed), at::kFloat)
      .requires_grad_(true);
}

// Times loss(draw) forward and backward, the parameters' gradients cleared after each.
template <typename Draw>
void forward_backward(benchmark::State& state, const std::vector<at::Tensor>& leaves, Draw draw) {
  for (auto _ : state) {
    draw().backward();
    for (const auto& leaf : leaves) leaf.mutable_grad().reset();
  }
}

// z weighted by fixed numbers, plus the log-density: a reconstruction-like and a KL-like term.
at::Tensor objective(const at::Tensor& z, const at::Tensor& log_prob) {
  at::Tensor weights = at::linspace(-1, 1, z.size(-1), z.options());
  return (z * weights).sum() + log_prob.sum();
}

void BM_RelaxationExpConcreteBaseline(benchmark::State& state) {
  at::Tensor logits = parameters(0, kCategories);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  forward_backward(state, {logits}, [&] {
    dist::ExpConcrete q(logits, 0.5);
    at::Tensor y = q.rsample({}, generator);
    return objective(y.exp(), q.log_prob(y));
  });
}

void BM_RelaxationIGR(benchmark::State& state) {
  at::Tensor loc = parameters(0, kCategories - 1), log_scale = parameters(2, kCategories - 1);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  forward_backward(state, {loc, log_scale}, [&] {
    dist::IGRSample s = dist::IGR(loc, log_scale.exp(), 0.5).rsample_with_log_prob({}, generator);
    return objective(s.z, s.log_prob);
  });
}

void BM_RelaxationIGRStickBreaking(benchmark::State& state) {
  at::Tensor loc = parameters(0, kCategories - 1), log_scale = parameters(2, kCategories - 1);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  forward_backward(state, {loc, log_scale}, [&] {
    dist::IGRSample s =
        dist::IGRStickBreaking(loc, log_scale.exp(), 0.5, 0.1, 0.99).rsample_with_log_prob({}, generator);
    return objective(s.z, s.log_prob);
  });
}

// Planar layers shared by every latent variable, as in the VAE: state.range(0) layers.
void BM_RelaxationIGRPlanar(benchmark::State& state) {
  at::Tensor loc = parameters(0, kCategories - 1), log_scale = parameters(2, kCategories - 1);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(3);
  at::Tensor u = (0.1 * at::randn({state.range(0), kCategories - 1}, generator, at::kFloat)).requires_grad_(true);
  at::Tensor w = (0.1 * at::randn({state.range(0), kCategories - 1}, generator, at::kFloat)).requires_grad_(true);
  at::Tensor b = at::zeros({state.range(0)}, at::kFloat).requires_grad_(true);
  forward_backward(state, {loc, log_scale, u, w, b}, [&] {
    dist::IGRSample s = dist::IGRPlanar(loc, log_scale.exp(), u, w, b, 0.5).rsample_with_log_prob({}, generator);
    return objective(s.z, s.log_prob);
  });
}

// What a VAE step needs: a draw and the KL to the prior, by one Monte Carlo draw for ExpConcrete
// (Eq. 14), in closed form for IGR (Eq. 19).
void BM_RelaxationKlExpConcreteBaseline(benchmark::State& state) {
  at::Tensor logits = parameters(0, kCategories);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  forward_backward(state, {logits}, [&] {
    dist::ExpConcrete q(logits, 0.5), p(at::zeros({kCategories}, at::kFloat), 0.5);
    at::Tensor y = q.rsample({}, generator);
    return objective(y.exp(), q.log_prob(y) - p.log_prob(y));
  });
}

void BM_RelaxationKlIGR(benchmark::State& state) {
  at::Tensor loc = parameters(0, kCategories - 1), log_scale = parameters(2, kCategories - 1);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  forward_backward(state, {loc, log_scale}, [&] {
    dist::IGR q(loc, log_scale.exp(), 0.5), p(at::zeros({kCategories - 1}), at::ones({kCategories - 1}), 0.5);
    return objective(q.rsample({}, generator), dist::kl_divergence(q, p));
  });
}

BENCHMARK(BM_RelaxationExpConcreteBaseline)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RelaxationIGR)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RelaxationIGRStickBreaking)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RelaxationIGRPlanar)->Arg(2)->Arg(10)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RelaxationKlExpConcreteBaseline)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RelaxationKlIGR)->Unit(benchmark::kMicrosecond);

}  // namespace
