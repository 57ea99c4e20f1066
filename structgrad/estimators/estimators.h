// Gradient estimators for E_{x ~ p_theta}[f(x)], generic over structure families.
//
// Every estimator takes a family, theta (*batch, *event) and a loss f, and returns a
// surrogate whose gradient is the estimate, so it drops into any training loop:
//
//   auto est = structgrad::estimators::reinforce(structgrad::categorical::family(), theta, f, 8);
//   est.surrogate.backward();   // theta.grad()[b] estimates d E[f(x_b)] / d theta[b]
//
// Conventions:
//  * f maps structures of shape (S, *batch, *event) (S samples of every instance) to losses of
//    shape (S, *batch). Anything f closes over (a decoder's parameters) gets its own gradient
//    through the surrogate too.
//  * surrogate is a scalar: the sum over the batch of each instance's estimate (mean over its
//    S samples). Divide by the batch size for a batch mean.
//  * loss is the per-instance loss estimate (*batch), detached: the mean of f over the samples,
//    or the exact expectation for `exact`.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

#include "structgrad/structures/family.h"

namespace structgrad::estimators {

using LossFn = std::function<at::Tensor(const at::Tensor& structures)>;

struct Estimate {
  at::Tensor surrogate;
  at::Tensor loss;
};

// The exact gradient by enumeration: surrogate = sum_x p_theta(x) f(x) (seed 003, Eq. 2).
Estimate exact(const Family& family, const at::Tensor& theta, const LossFn& f);

// Straight-through: the exact sample forward, the gradient of the family's mean backward.
Estimate straight_through(const Family& family, const at::Tensor& theta, const LossFn& f,
                          GeneratorOpt generator = c10::nullopt);

// The stochastic softmax trick (Gumbel-softmax for categorical): f evaluated on relax(theta).
// Biased; with options.hard the forward is the exact sample.
Estimate relaxed(const Family& family, const at::Tensor& theta, const LossFn& f,
                 const RelaxOptions& options, GeneratorOpt generator = c10::nullopt);

// REINFORCE with K >= 2 samples and the leave-one-out baseline: unbiased.
//   grad = 1/K sum_k (f(x_k) - 1/(K-1) sum_{j != k} f(x_j)) grad log p(x_k)
Estimate reinforce(const Family& family, const at::Tensor& theta, const LossFn& f,
                   int64_t num_samples, GeneratorOpt generator = c10::nullopt);

// Every estimator's parameters in one place, so that tools can pick an estimator by name.
struct Options {
  RelaxOptions relax;
  int64_t num_samples = 8;
};

struct EstimatorInfo {
  std::string name;
  bool unbiased;
  std::string description;
};

const std::vector<EstimatorInfo>& estimator_list();
const EstimatorInfo& estimator_info(const std::string& name);

// Runs the named estimator.
Estimate estimate(const std::string& name, const Family& family, const at::Tensor& theta,
                  const LossFn& f, const Options& options, GeneratorOpt generator = c10::nullopt);

}  // namespace structgrad::estimators
