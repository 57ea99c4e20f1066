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
#include "structgrad/structures/pairwise_binary.h"

namespace structgrad::estimators {

using LossFn = std::function<at::Tensor(const at::Tensor& structures)>;

// The defaults of the estimators' sample counts, written once: the signatures below, Options,
// and the Python bindings take them from here.
inline constexpr int64_t kLeaveOneOutSamples = 8;  // the leave-one-out estimators (reinforce, *_plus)
inline constexpr int64_t kConditionalDraws = 8;    // gumbel_rao's draws of G given the trace

struct Estimate {
  at::Tensor surrogate;
  at::Tensor loss;
};

// The exact gradient by enumeration: surrogate = sum_x p_theta(x) f(x) (seed 003, Eq. 2).
Estimate exact(const Family& family, const at::Tensor& theta, const LossFn& f);

// The exact gradient under the law of family.trace (seed 002), by enumerating every trace:
// surrogate = sum_T P(T) f(X(T)). The same as `exact` where the two laws agree; the reference for
// the trace estimators of arborescence, whose trace follows the minimum arborescence under E.
Estimate exact_traces(const Family& family, const at::Tensor& theta, const LossFn& f);

// The exact gradient under the family's Gibbs distribution p(x) ∝ exp(<theta, x>), by
// enumeration: surrogate = sum_x p(x) f(x). The reference for gibbs_reinforce; the same as
// `exact` for bernoulli and categorical, whose samples follow that law.
Estimate exact_gibbs(const Family& family, const at::Tensor& theta, const LossFn& f);

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
                   int64_t num_samples = kLeaveOneOutSamples, GeneratorOpt generator = c10::nullopt);

// REINFORCE under the Gibbs distribution (families with gibbs_sample: spanning_tree,
// arborescence, topk, correlated_topk, bernoulli, categorical): K >= 2 exact Gibbs samples,
// gibbs_log_prob's score, the leave-one-out baseline. Unbiased for E_{Gibbs(theta)}[f], which is
// another expectation than reinforce's for the structured families; the score-function
// estimator for correlated_topk, whose perturb-and-MAP law has no closed form.
Estimate gibbs_reinforce(const Family& family, const at::Tensor& theta, const LossFn& f,
                         int64_t num_samples = kLeaveOneOutSamples, GeneratorOpt generator = c10::nullopt);

// The score-function estimators of the recursive Gumbel-Max trick (seed 002 §3), for families
// with `trace`. Each draws K = num_samples traces per instance; the "_plus" forms need K >= 2
// and subtract the leave-one-out baseline (Eq. 7), the plain forms average K plain estimates.
//   e_reinforce:  the score of the exponential perturbation E (Eq. 1)
//   t_reinforce:  the score of the trace T (Eq. 2), var <= e_reinforce's (Eq. 5)
Estimate e_reinforce(const Family& family, const at::Tensor& theta, const LossFn& f, int64_t num_samples = 1,
                     GeneratorOpt generator = c10::nullopt);
Estimate e_reinforce_plus(const Family& family, const at::Tensor& theta, const LossFn& f,
                          int64_t num_samples = kLeaveOneOutSamples, GeneratorOpt generator = c10::nullopt);
Estimate t_reinforce(const Family& family, const at::Tensor& theta, const LossFn& f, int64_t num_samples = 1,
                     GeneratorOpt generator = c10::nullopt);
Estimate t_reinforce_plus(const Family& family, const at::Tensor& theta, const LossFn& f,
                          int64_t num_samples = kLeaveOneOutSamples, GeneratorOpt generator = c10::nullopt);

// A control variate c(perturbed) for RELAX: perturbations (S, *batch, *event) -> (S, *batch).
using ControlVariate = std::function<at::Tensor(const at::Tensor& perturbed)>;

// RELAX (seed 002 Eq. 6, Grathwohl et al. 2018), unbiased, with K samples averaged:
//   (f(x) - c(e~)) grad log P(T) - grad c(e~) + grad c(e),   e~ ~ E | T (conditional_gumbel).
// c empty: the relaxed loss f(relax_perturbed(e, options)) (the family's SST relaxation). c given:
// a user module; the surrogate then also carries the variance objective sum ||g||^2, so that its
// backward gives c's parameters the gradient that lowers the estimator's variance.
Estimate relax(const Family& family, const at::Tensor& theta, const LossFn& f, const ControlVariate& c,
               const RelaxOptions& options, int64_t num_samples = 1, GeneratorOpt generator = c10::nullopt);

// REBAR (Tucker et al. 2017): RELAX whose control variate is the scaled relaxed loss
// c(e) = eta f(relax_perturbed(e, options)), with eta and tau fixed (not learned, so the surrogate
// carries no variance objective and f's parameters get only the gradient of E f). eta = 1 is
// relax's default control variate. Unbiased for any eta. For families with trace and
// conditional_gumbel (bernoulli and categorical: the unstructured binary and categorical encoders
// of REBAR's own experiments; the structured families as relax).
Estimate rebar(const Family& family, const at::Tensor& theta, const LossFn& f, double eta, const RelaxOptions& options,
               int64_t num_samples = 1, GeneratorOpt generator = c10::nullopt);

// Gumbel-Rao (Paulus et al. 2021), beyond the seeds: the exact sample forward, and backward the
// gradient of the SST relaxation at theta + G, G held fixed, averaged over num_conditional draws
// of G given the trace (Rao-Blackwellized straight-through). The same expectation as `relaxed`
// with hard (so as biased), less variance.
Estimate gumbel_rao(const Family& family, const at::Tensor& theta, const LossFn& f, const RelaxOptions& options,
                    int64_t num_conditional = kConditionalDraws, GeneratorOpt generator = c10::nullopt);

// Direct optimization through argmax (seed 003, Theorem 1). With one perturbation G,
//   z* = map(theta + G),  z*(eps) = argmax_z <theta + G, z> + eps f(z)   (the loss-augmented argmax),
// the estimate of the gradient of E[f(z*)] is (z*(eps) - z*) / eps, so a descent step lowers the
// loss. Biased for eps > 0 (exact as eps -> 0, with growing variance); a negative eps is the
// other one-sided difference. How z*(eps) is found, `argmax`:
//   "enumerate"  exactly, f evaluated once on every structure of family.enumerate (categorical:
//                every category); for families whose structures are indicators of theta's parts
//   "linear"     f(z) = <costs, z>: map(theta + G + eps costs), the family's own solver
//   "flip"       the low-dimensional approximation of seed 003 §4.1: costs_p = f(z* with part p
//                set to 1) - f(z* with part p set to 0), one batched call of f, then "linear"
// Semi-supervised (seed 003 §4.2): where `labelled` is true the label takes the place of the
// loss-augmented prediction (the indicator loss), with the sign that makes a descent step raise
// the label's score: (z* - label) / |eps|.
struct DirectOptions {
  double eps = 1.0;
  std::string argmax = "enumerate";
  at::Tensor costs;     // "linear": (*batch, *event) loss of every part
  at::Tensor labels;    // optional: (*batch, *event) the structures of the labelled instances
  at::Tensor labelled;  // optional: (*batch) bool
};
Estimate direct(const Family& family, const at::Tensor& theta, const LossFn& f, const DirectOptions& options,
                GeneratorOpt generator = c10::nullopt);

// Direct optimization for the structured encoder of seed 003 §4.1, the pairwise_binary family
// score(z) = <h, z> + sum_{i<j} a_ij z_i z_j (not a Family: its parameters are two tensors). The
// perturbation is the family's own low-dimensional one (pairwise_binary::perturb: a logistic on
// every unary choice and, with pairwise_noise, on every pairwise choice); z* and z*(eps) come from
// pairwise_binary::map with the `map` options. options.argmax:
//   "enumerate"  exact: f once on all 2^n states (n <= 16)
//   "linear"     f(z) = <options.costs, z>, costs (*batch, n)
//   "flip"       seed 003 §4.1: f~_i(z_i) = f(z*_1, ..., z_i, ..., z*_n), one call of f on 2n states
// The augmentation moves only the unaries, so a supermodular a (with pairwise_noise off) keeps
// max-flow applicable to z*(eps). The estimate is (z*(eps) - z*) / eps on h and
// (z*(eps) z*(eps)^T - z* z*^T) / eps on a's upper triangle, where score reads a. With "enumerate"
// it tends to the gradient of E[f(z*)] under this perturbation as eps -> 0: Theorem 1's proof only
// needs noise with a density on the scored parts, not one Gumbel per state. labels (*batch, n) and
// labelled (*batch) as in `direct`.
struct PairwiseDirectOptions {
  bool pairwise_noise = true;
  pairwise_binary::MapOptions map;
};
Estimate direct_pairwise_binary(const at::Tensor& h, const at::Tensor& a, const LossFn& f,
                                const DirectOptions& options, const PairwiseDirectOptions& pairwise = {},
                                GeneratorOpt generator = c10::nullopt);

// The epsilon annealing of seed 003 §5 (the Gumbel-softmax schedule of Jang et al.): every
// `every` steps, |eps| = max(minimum, |start| * exp(-rate * step)), with start's sign. Seed 003
// maximizes a likelihood, so its loss-augmented argmax moves towards the better structure: with a
// loss here, that is a negative eps.
struct EpsSchedule {
  double start = 1.0;
  double rate = 1e-5;
  int64_t every = 1000;
  double minimum = 0.1;
  double value(int64_t step) const;
};

// ARM, augment-REINFORCE-merge (Yin & Zhou 2019), beyond the seeds, for the bernoulli family:
//   E_u[(f(1[u > sigmoid(-theta)]) - f(1[u < sigmoid(theta)])) (u - 1/2)],  u ~ U(0, 1)^n,
// two antithetic evaluations of f per sample, K = num_samples averaged. Unbiased.
Estimate arm(const Family& family, const at::Tensor& theta, const LossFn& f, int64_t num_samples = 1,
             GeneratorOpt generator = c10::nullopt);

// Every estimator's parameters in one place, so that tools can pick an estimator by name.
struct Options {
  RelaxOptions relax;
  double eta = 1.0;  // rebar's control-variate scale
  int64_t num_samples = kLeaveOneOutSamples;
  int64_t num_conditional = kConditionalDraws;  // gumbel_rao
  DirectOptions direct;
};

struct EstimatorInfo {
  std::string name;
  bool unbiased;
  std::string description;
  // Its samples follow family.trace's law (which differs from sample's for arborescences).
  bool trace_law = false;
  // Its samples follow the Gibbs law (gibbs_sample's).
  bool gibbs_law = false;
};

const std::vector<EstimatorInfo>& estimator_list();
const EstimatorInfo& estimator_info(const std::string& name);

// Runs the named estimator.
Estimate estimate(const std::string& name, const Family& family, const at::Tensor& theta,
                  const LossFn& f, const Options& options, GeneratorOpt generator = c10::nullopt);

}  // namespace structgrad::estimators
