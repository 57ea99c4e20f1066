// The one shape every structure family has, as a value the estimators, the CLI and the bindings
// can be generic over.
//
// A family is a set of discrete structures, each a 0/1 indicator tensor of the event shape
// (the trailing `event_dim` dimensions of theta). Each family file (categorical.h, ...) offers
// the verbs of docs/DESIGN.md as free functions and builds its `Family` with `family(...)`; the
// family's parameters (topk's k, arborescence's root) are captured inside the value, so nothing
// that takes a `Family` ever names them. structures/registry.h lists every family by name.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "structgrad/core/noise.h"

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

// The values of a family's parameters by name ({"k": 3} for topk).
using FamilyParams = std::map<std::string, int64_t>;

struct Family {
  std::string name;
  FamilyParams params;
  int64_t event_dim = 1;
  // Undirected parts stand in both triangles of theta and score once (spanning trees).
  bool symmetric = false;

  // Checks theta for every verb; errors name `function` ("topk.relax") and the argument.
  std::function<void(const char* function, const at::Tensor& theta)> check;
  // The highest-scoring structure.
  std::function<at::Tensor(const at::Tensor& theta)> map;
  // A perturb-and-MAP sample: map(perturb(theta)).
  std::function<at::Tensor(const at::Tensor& theta, GeneratorOpt)> sample;
  // theta + G with the family's noise, so that map(perturb(theta)) is sample's law: `perturbation`
  // where the family sets it (bernoulli: a logistic), else one Gumbel per part, mirrored when
  // symmetric.
  at::Tensor perturb(const at::Tensor& theta, GeneratorOpt generator) const;
  std::function<at::Tensor(const at::Tensor& theta, GeneratorOpt)> perturbation;
  // The regularized argmax of perturbed / tau for checked perturbed scores, after checking the
  // options; errors name `function`. Absent where the family has no relaxation.
  std::function<at::Tensor(const char* function, const at::Tensor& perturbed, const RelaxOptions&)> relax_scores;
  // Whether relax_scores relaxes `map` itself, so that `relax` is a stochastic softmax trick for
  // this family: false for matching, whose Sinkhorn relaxes the assignment rather than the greedy
  // matching, and serves only as RELAX's control variate.
  bool relaxes_map = true;
  // The relaxation of given perturbed scores: relax without drawing the noise.
  at::Tensor relax_perturbed(const at::Tensor& perturbed, const RelaxOptions& options) const;
  // The stochastic softmax trick, the same for every family: perturb, relax_perturbed, and with
  // options.hard map's structure of the same perturbation forward (exactly sample's draw for the
  // same generator), the relaxed gradient backward.
  at::Tensor relax(const at::Tensor& theta, const RelaxOptions& options, GeneratorOpt generator) const;
  bool has_relax() const { return bool(relax_scores) && relaxes_map; }
  // Every structure of an instance the size of theta's event: (N, *event_shape).
  std::function<at::Tensor(const at::Tensor& theta)> enumerate;
  // log P(sample(theta) == x) for x of shape (S, *theta.shape): returns (S, *batch).
  // Differentiable in theta. Absent where not tractable.
  std::function<at::Tensor(const at::Tensor& theta, const at::Tensor& x)> log_prob;
  // The Gibbs distribution p(x) ∝ exp(<theta, x>) where tractable: log Z (*batch) and E[x].
  std::function<at::Tensor(const at::Tensor& theta)> log_partition;
  std::function<at::Tensor(const at::Tensor& theta)> marginals;
  // An exact sample of the Gibbs distribution, batched and seeded (structures/gibbs.h): the same
  // law as `sample` for bernoulli and categorical, another one for the structured families (a
  // perturb-and-MAP tree is not Gibbs-distributed). Absent where the law has no exact sampler.
  std::function<at::Tensor(const at::Tensor& theta, GeneratorOpt)> gibbs_sample;
  bool has_gibbs() const { return bool(gibbs_sample) && bool(log_partition) && bool(marginals); }
  // Whether each 0/1 indicator x (*, *event) is a structure of the family: bool (*). Absent: every
  // 0/1 point is one (bernoulli).
  std::function<at::Tensor(const at::Tensor& x)> support;
  // The Gibbs verbs every family with log_partition and marginals shares, each differentiable in
  // theta through those kernels and finite for logits of any magnitude (-inf entries, absent
  // parts, count as absent):
  //   score(theta, x)           <theta, x>, each undirected part once: x (*sample, *batch, *event)
  //                             broadcast against theta, returns (*sample, *batch)
  //   gibbs_log_prob(theta, x)  score - log Z
  //   entropy(theta)            log Z - <theta, E[x]>: (*batch)
  //   kl_divergence(p, q)       KL(Gibbs(p) || Gibbs(q)) = log Z_q - log Z_p - <q - p, E_p[x]>:
  //                             (*batch), +inf where p has structures q has not
  // x's shape and 0/1 entries are checked; a 0/1 point that is not a structure (by `support`)
  // scores -inf, so its log-probability is -inf.
  at::Tensor score(const at::Tensor& theta, const at::Tensor& x) const;
  at::Tensor gibbs_log_prob(const at::Tensor& theta, const at::Tensor& x) const;
  at::Tensor entropy(const at::Tensor& theta) const;
  at::Tensor kl_divergence(const at::Tensor& theta_p, const at::Tensor& theta_q) const;

  // A differentiable stand-in for E[x] used by the straight-through estimator's backward.
  std::function<at::Tensor(const at::Tensor& theta)> mean;

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
  // theta's event shape for an instance of n items or vertices: `theta_event_shape` where the
  // family sets it (correlated_topk: 2n - 1 scores), else n in each of the event_dim dimensions.
  std::vector<int64_t> event_shape(int64_t n) const;
  std::function<std::vector<int64_t>(int64_t n)> theta_event_shape;
};

// For families with one relaxation: `given` must be empty (the default) or `only`.
void check_only_regularizer(const char* function, const std::string& given, const char* only);

// enumerate(n, options) as Family::enumerate: every structure of an instance whose size is theta's
// last dimension, in theta's dtype.
inline std::function<at::Tensor(const at::Tensor&)> enumerate_by_size(at::Tensor (*enumerate)(int64_t,
                                                                                              const at::TensorOptions&)) {
  return [enumerate](const at::Tensor& theta) { return enumerate(theta.size(-1), theta.options()); };
}

// A family's relax functions take backward explicitly (their default is spelled out, "custom"), so
// an empty one there is a mistake, not the RelaxOptions convention for the family's default.
inline const std::string& explicit_backward(const char* function, const std::string& backward) {
  TORCH_CHECK_VALUE(!backward.empty(), function, ": backward must be named (\"custom\" is the default), got \"\"");
  return backward;
}

// `given`, or the family's default when it is empty (RelaxOptions' regularizer and backward).
inline std::string or_default(const std::string& given, const char* family_default) {
  return given.empty() ? family_default : given;
}

}  // namespace structgrad
