// The trace verbs (trace, trace_log_prob, conditional_gumbel) of every family whose sampler is
// an algorithm with the stochastic invariant, from its `Recursion` definition.
//
// A family describes how theta (*batch, *event) maps onto its recursion's keys with a `KeySpace`;
// these functions flatten the batch, run ops/trace.h and restore the family's shapes:
//   trace:      {structure (*batch, *structure_shape), trace (*batch, L) int64 padded with -1,
//                lengths (*batch), perturbed (*batch, *event) = theta + G}
//   trace_log_prob(theta, trace): (*batch); the lengths are the entries before the -1 padding.
//   conditional_gumbel(theta, trace): theta + G = -log E given the trace, (*batch, *event).
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

#include "structgrad/ops/trace.h"
#include "structgrad/structures/family.h"

namespace structgrad::recursive {

struct KeySpace {
  int64_t event_dim = 1;
  std::vector<int64_t> structure_shape;  // the structure's event shape
  ops::RecursionFactory factory;
  // Which keys take part, (B, N) bool for theta flattened to (B, N); default: finite theta.
  std::function<at::Tensor(const at::Tensor& flat_theta)> present;
  // Turns a (B, N) perturbation into the family's (B, *event) form; default: a reshape.
  std::function<at::Tensor(const at::Tensor& flat_perturbation, const at::Tensor& flat_present)> to_event;
  // The error of a sample when an instance has no structure.
  const char* infeasible = "the instance has no structure";
};

Trace trace(const at::Tensor& theta, const KeySpace& space, GeneratorOpt generator);
at::Tensor trace_log_prob(const char* function, const at::Tensor& theta, const at::Tensor& trace,
                          const KeySpace& space);
at::Tensor conditional_gumbel(const char* function, const at::Tensor& theta, const at::Tensor& trace,
                              const KeySpace& space, GeneratorOpt generator);

// The three trace verbs of a family, from its argument check (called with the verb's full name,
// "topk.trace") and the key space of a theta. Each family's free functions forward to one of these.
class TraceVerbs {
 public:
  using Check = std::function<void(const char* function, const at::Tensor& theta)>;
  using Space = std::function<KeySpace(const at::Tensor& theta)>;

  TraceVerbs(std::string family, Check check, Space space);
  Trace trace(const at::Tensor& theta, GeneratorOpt generator) const;
  at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace) const;
  at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, GeneratorOpt generator) const;
  Trace enumerate_traces(const at::Tensor& theta) const;
  // Sets family.trace, trace_log_prob, conditional_gumbel and enumerate_traces.
  void install(Family& family) const;

 private:
  std::string name(const char* verb) const { return family_ + "." + verb; }
  std::string family_;
  Check check_;
  Space space_;
};

// log P(X = x) for a structure whose every ordering of its m keys is a valid trace (top-k,
// matching, Kruskal): the logsumexp over the m! orders of the trace log-probability. parts
// (S, *batch, m) are x's keys; returns (S, *batch). m <= 8.
at::Tensor unordered_log_prob(const char* function, const at::Tensor& theta, const at::Tensor& parts,
                              const KeySpace& space);

// Runs the recursion on the given scores (no noise): the structure (*batch, *structure_shape).
at::Tensor run_on(const at::Tensor& scores, const KeySpace& space);

// Checks that trace is an integer tensor (*batch, L) whose -1 padding comes only at the end.
void check_trace(const char* function, const at::Tensor& theta, int64_t event_dim, const at::Tensor& trace);

}  // namespace structgrad::recursive
