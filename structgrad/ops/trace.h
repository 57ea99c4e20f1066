// The torch side of the recursive Gumbel-Max trick (solvers/recursion.h): batched sampling of
// traces, trace log-probabilities with a hand-written backward, and reparameterized samples of
// the perturbation given a trace.
//
// Every function works on flattened instances: theta is (B, N) for N keys, `present` (B, N) bool
// says which keys take part (theta = -inf and structurally absent keys do not). Each instance
// runs its own `Recursion` object (made by `factory`) under at::parallel_for.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <memory>

#include "structgrad/core/noise.h"
#include "structgrad/solvers/recursion.h"

namespace structgrad::ops {

using RecursionFactory = std::function<std::unique_ptr<solvers::Recursion>()>;

struct TraceSample {
  at::Tensor structure;  // (B, structure_size) 0/1 in theta's dtype
  at::Tensor trace;      // (B, L) int64, padded with -1
  at::Tensor lengths;    // (B) int64
  at::Tensor perturbed;  // (B, N) theta + G = -log E in theta's dtype (differentiable in theta)
};

// Samples E ~ Exp(exp(theta)) (through Gumbel noise G = -log Exp(1), drawn in float64) and runs
// the recursion on theta + G. `infeasible` is the error raised when an instance has no structure.
// perturb = false runs it on theta itself (the noise-free solution; perturbed is then theta).
TraceSample recursive_trace(const at::Tensor& theta, const at::Tensor& present, const RecursionFactory& factory,
                            GeneratorOpt generator, const char* infeasible, bool perturb = true);

// The replayed traces of a batch as tensors (see solvers::TraceProgram), theta-independent, in
// the general layout (members listed) or the single-group one (exit levels).
struct TracePrograms {
  bool single_group = false;
  at::Tensor exit_level;       // single-group: (B, N) int32, key k is in the instance's groups [0, exit)
  at::Tensor members;          // general: (M) int64 key of every group member, all instances
  at::Tensor member_group;     // general: (M) int64 the member's group
  at::Tensor chosen;           // (G) int64 key chosen by every group
  at::Tensor group_instance;   // (G) int64 the group's instance
  at::Tensor group_offsets;    // general: (G + 1) int64: group g is members[group_offsets[g], [g + 1])
  at::Tensor instance_groups;  // (B + 1) int64: instance b has groups [instance_groups[b], [b + 1])
  at::Tensor present;          // (B, N) bool, as given to replay_traces
};

// Replays trace (B, L) with lengths (B). An invalid trace raises a ValueError that names
// `function`, the instance and the entry.
TracePrograms replay_traces(const at::Tensor& present, const at::Tensor& trace, const at::Tensor& lengths,
                            const RecursionFactory& factory, const char* function);

// log P(T = trace) = sum over groups of theta[chosen] - logsumexp(theta[members]) (seed 002
// Alg. 3): (B). Differentiable in theta with a hand-written backward, O(M) in the general layout
// (group sums in linear space on max-shifted weights, log space where they would underflow) and
// O(N + L) in the single-group one (suffix logsumexps over the exit levels).
at::Tensor trace_log_prob(const at::Tensor& theta, const TracePrograms& programs);

// A sample of -log E given T = trace (seed 002 App. B): every group's minimum is an independent
// Exp(sum of its members' lambda), every key never chosen keeps an independent Exp(lambda)
// residual, and E_j sums the minima of j's groups and its residual. (B, N), reparameterized:
// composed of differentiable torch ops (so it can be differentiated twice, as RELAX's variance
// objective needs). Keys that are not present come out as -inf.
at::Tensor conditional_perturbation(const at::Tensor& theta, const TracePrograms& programs, GeneratorOpt generator);

}  // namespace structgrad::ops
