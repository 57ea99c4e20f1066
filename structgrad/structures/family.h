// The one shape every structure family has, as values the estimators can be generic over.
//
// A family is a set of discrete structures, each a 0/1 indicator tensor of the event shape
// (the trailing `event_dim` dimensions of theta). Each family file (categorical.h, ...) offers
// the verbs of docs/DESIGN.md as free functions; `Family` bundles the ones an estimator needs.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

#include "structgrad/ops/noise.h"

namespace structgrad {

// The stochastic softmax trick's parameters: regularized argmax of (theta + G) / tau.
struct RelaxOptions {
  double tau = 1.0;
  std::string regularizer;  // empty: the family's default
  bool hard = false;        // exact sample forward, relaxed gradient backward
  std::string backward;     // empty: the family's default ("custom"; "implicit" for permutation)
};

// A sample with its recursive Gumbel-Max trace (seed 002, Alg. 2). Traces of a batch are
// padded to a common length; `lengths` says how much of each is real.
struct Trace {
  at::Tensor structure;  // (*theta.shape) indicators
  at::Tensor trace;      // (*batch, L) int64, padded with -1
  at::Tensor lengths;    // (*batch) int64
  at::Tensor perturbed;  // (*batch, *event) theta + G = -log E that the sample came from
};

struct Family {
  std::string name;
  int64_t event_dim = 1;
  // Undirected parts stand in both triangles of theta and score once (spanning trees).
  bool symmetric = false;

  // The highest-scoring structure.
  std::function<at::Tensor(const at::Tensor& theta)> map;
  // A perturb-and-MAP sample: map(theta + Gumbel noise).
  std::function<at::Tensor(const at::Tensor& theta, GeneratorOpt)> sample;
  // theta + G with the family's noise, so that map(perturb(theta)) is sample's law: `perturbation`
  // where the family sets it (bernoulli: a logistic), else one Gumbel per part, mirrored when
  // symmetric.
  at::Tensor perturb(const at::Tensor& theta, GeneratorOpt generator) const;
  std::function<at::Tensor(const at::Tensor& theta, GeneratorOpt)> perturbation;
  // The stochastic softmax trick.
  std::function<at::Tensor(const at::Tensor& theta, const RelaxOptions&, GeneratorOpt)> relax;
  // Every structure of an instance the size of theta's event: (N, *event_shape).
  std::function<at::Tensor(const at::Tensor& theta)> enumerate;
  // log P(sample(theta) == x) for x of shape (S, *theta.shape): returns (S, *batch).
  // Differentiable in theta. Absent where not tractable.
  std::function<at::Tensor(const at::Tensor& theta, const at::Tensor& x)> log_prob;
  // A differentiable stand-in for E[x] used by the straight-through estimator's backward.
  std::function<at::Tensor(const at::Tensor& theta)> mean;
  // The relaxation of given perturbed scores: relax without drawing the noise.
  std::function<at::Tensor(const at::Tensor& perturbed, const RelaxOptions&)> relax_perturbed;

  // Recursive Gumbel-Max (seed 002), where the sampler has the stochastic invariant: a sample
  // with its trace; the exact log-probability (*batch) of traces (*batch, L); theta + G = -log E
  // given a trace (*batch, *event), reparameterized.
  std::function<Trace(const at::Tensor& theta, GeneratorOpt)> trace;
  std::function<at::Tensor(const at::Tensor& theta, const at::Tensor& trace)> trace_log_prob;
  std::function<at::Tensor(const at::Tensor& theta, const at::Tensor& trace, GeneratorOpt)> conditional_gumbel;
  // Every trace of an instance of theta's shape (its instances must share their absent parts):
  // structure (M, *structure), trace (M, L), lengths (M). Small instances only.
  std::function<Trace(const at::Tensor& theta)> enumerate_traces;

  // The batch shape of theta under this family.
  std::vector<int64_t> batch_shape(const at::Tensor& theta) const;
};

// The parameters some families take: the subset size of topk (-1: not given), the root of
// arborescence.
struct FamilyOptions {
  int64_t k = -1;
  int64_t root = 0;
};

// For families with one relaxation: `given` must be empty (the default) or `only`.
void check_only_regularizer(const char* function, const std::string& given, const char* only);

// Every family by its Python name ("categorical", "topk", ...), with its parameters.
// Throws on an unknown name or a missing parameter.
Family family(const std::string& name, const FamilyOptions& options = {});
std::vector<std::string> family_names();

}  // namespace structgrad
