// The Concrete (Gumbel-softmax) distribution and its log-space twin ExpConcrete
// (Maddison, Mnih & Teh, 2017; seed 004 §2 and App. A).
//
// ExpConcrete(logits, tau): y = log_softmax((logits + G) / tau), a point of the log-simplex.
// Its log-density is computed without leaving log space:
//   log p(y) = log (n-1)! + (n-1) log tau + sum_k (logits_k - tau y_k)
//              - n logsumexp_k (logits_k - tau y_k),
// which stays finite where the Concrete density of x = exp(y) underflows (x_k == 0 at low tau).
// The density is relative to the base measure of Maddison et al.; the Concrete density of x
// (relative to Lebesgue measure on x_1..x_{n-1}) is log p(y) - sum_k y_k, so either can be used
// in a KL estimate as long as both sides use the same one.
//
//   structgrad::distributions::ExpConcrete q(logits, 0.5);
//   at::Tensor y = q.rsample({}, gen);     // (*batch, n), differentiable in logits
//   at::Tensor log_q = q.log_prob(y);      // (*batch)
#pragma once

#include <ATen/ATen.h>

#include "structgrad/core/noise.h"

namespace structgrad::distributions {

class ExpConcrete {
 public:
  // logits: (*batch, n), n >= 2, finite. temperature > 0.
  ExpConcrete(at::Tensor logits, double temperature);

  // (*sample_shape, *batch, n) points of the log-simplex, reparameterized.
  at::Tensor rsample(at::IntArrayRef sample_shape = {}, GeneratorOpt generator = c10::nullopt) const;
  // value: (*, *batch, n) -> (*, *batch).
  at::Tensor log_prob(const at::Tensor& value) const;

  const at::Tensor& logits() const { return logits_; }
  double temperature() const { return temperature_; }

 private:
  at::Tensor logits_;
  double temperature_;
};

class Concrete {
 public:
  Concrete(at::Tensor logits, double temperature);

  // (*sample_shape, *batch, n) points of the simplex: exp of ExpConcrete's sample.
  at::Tensor rsample(at::IntArrayRef sample_shape = {}, GeneratorOpt generator = c10::nullopt) const;
  // value: points of the simplex, (*, *batch, n) -> (*, *batch); -inf where an entry is 0
  // (outside the open simplex), as for draws that underflow at low temperature: score those
  // with ExpConcrete on log values instead.
  at::Tensor log_prob(const at::Tensor& value) const;

  const ExpConcrete& log_space() const { return exp_concrete_; }

 private:
  ExpConcrete exp_concrete_;
};

}  // namespace structgrad::distributions
