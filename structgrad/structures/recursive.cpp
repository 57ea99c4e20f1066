#include "structgrad/structures/recursive.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "structgrad/core/check.h"
#include "structgrad/core/log_space.h"
#include "structgrad/solvers/enumerate.h"

namespace structgrad::recursive {
namespace {

struct Flat {
  std::vector<int64_t> batch, event;
  at::Tensor theta, present;  // (B, N)
};

Flat flatten(const at::Tensor& theta, const KeySpace& space) {
  Flat f;
  auto sizes = theta.sizes();
  f.batch.assign(sizes.begin(), sizes.end() - space.event_dim);
  f.event.assign(sizes.end() - space.event_dim, sizes.end());
  int64_t keys = 1;
  for (int64_t s : f.event) keys *= s;
  f.theta = theta.reshape({-1, keys});
  // isfinite without its float temporary of theta's size (torch computes |theta| != inf).
  at::Tensor finite = f.theta.gt(core::kNegInf).logical_and_(f.theta.lt(core::kInf));
  f.present = space.present ? space.present(f.theta) & finite : finite;
  return f;
}

std::vector<int64_t> concat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

at::Tensor to_event(const at::Tensor& flat, const Flat& f, const KeySpace& space) {
  at::Tensor out = space.to_event ? space.to_event(flat, f.present) : flat;
  return out.reshape(concat(f.batch, f.event));
}

ops::TracePrograms programs_of(const char* function, const Flat& f, const at::Tensor& trace, const KeySpace& space) {
  at::Tensor steps = trace.reshape({f.theta.size(0), trace.size(-1)});
  at::Tensor lengths = (steps >= 0).sum(-1);
  return ops::replay_traces(f.present, steps, lengths, space.factory, function);
}

}  // namespace

void check_trace(const char* function, const at::Tensor& theta, int64_t event_dim, const at::Tensor& trace) {
  TORCH_CHECK_VALUE(trace.defined() && !at::isFloatingType(trace.scalar_type()) && trace.scalar_type() != at::kBool,
                    function, ": trace must be an integer tensor");
  auto batch = theta.sizes().slice(0, theta.dim() - event_dim);
  TORCH_CHECK_VALUE(trace.dim() == int64_t(batch.size()) + 1 && trace.sizes().slice(0, batch.size()) == batch,
                    function, ": trace must have shape (*batch, L) = (", check::shape_string(batch),
                    " + (L,)) for theta of shape ", check::shape_string(theta.sizes()), ", got ",
                    check::shape_string(trace.sizes()));
  at::Tensor real = trace >= 0;
  if (trace.size(-1) > 1) {
    at::Tensor later = real.narrow(-1, 1, trace.size(-1) - 1), earlier = real.narrow(-1, 0, trace.size(-1) - 1);
    TORCH_CHECK_VALUE(!(later & ~earlier).any().item<bool>(), function,
                      ": trace may be padded with -1 only at the end");
  }
  TORCH_CHECK_VALUE((trace >= -1).all().item<bool>(), function, ": trace holds a negative entry other than -1");
}

Trace trace(const at::Tensor& theta, const KeySpace& space, GeneratorOpt generator) {
  Flat f = flatten(theta, space);
  ops::TraceSample s = ops::recursive_trace(f.theta, f.present, space.factory, generator, space.infeasible);
  Trace out;
  out.structure = s.structure.reshape(concat(f.batch, space.structure_shape));
  out.trace = s.trace.reshape(concat(f.batch, {s.trace.size(1)}));
  out.lengths = s.lengths.reshape(f.batch);
  // In place where the perturbation is the trace's own tensor (see ops::recursive_trace).
  out.perturbed = to_event(s.perturbed.requires_grad() ? s.perturbed.masked_fill(~f.present, core::kNegInf)
                                                         : s.perturbed.masked_fill_(~f.present, core::kNegInf),
                           f, space);
  return out;
}

at::Tensor trace_log_prob(const char* function, const at::Tensor& theta, const at::Tensor& trace,
                          const KeySpace& space) {
  check_trace(function, theta, space.event_dim, trace);
  Flat f = flatten(theta, space);
  return ops::trace_log_prob(f.theta, programs_of(function, f, trace, space)).reshape(f.batch);
}

at::Tensor conditional_gumbel(const char* function, const at::Tensor& theta, const at::Tensor& trace,
                              const KeySpace& space, GeneratorOpt generator) {
  check_trace(function, theta, space.event_dim, trace);
  Flat f = flatten(theta, space);
  return to_event(ops::conditional_perturbation(f.theta, programs_of(function, f, trace, space), generator), f, space);
}

TraceVerbs::TraceVerbs(std::string family, Check check, Space space)
    : family_(std::move(family)), check_(std::move(check)), space_(std::move(space)) {}

Trace TraceVerbs::trace(const at::Tensor& theta, GeneratorOpt generator) const {
  check_(name("trace").c_str(), theta);
  return recursive::trace(theta, space_(theta), generator);
}

at::Tensor TraceVerbs::trace_log_prob(const at::Tensor& theta, const at::Tensor& trace) const {
  const std::string function = name("trace_log_prob");
  check_(function.c_str(), theta);
  return recursive::trace_log_prob(function.c_str(), theta, trace, space_(theta));
}

at::Tensor TraceVerbs::conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace,
                                          GeneratorOpt generator) const {
  const std::string function = name("conditional_gumbel");
  check_(function.c_str(), theta);
  return recursive::conditional_gumbel(function.c_str(), theta, trace, space_(theta), generator);
}

Trace TraceVerbs::enumerate_traces(const at::Tensor& theta) const {
  const std::string function = name("enumerate_traces");
  check_(function.c_str(), theta);
  KeySpace space = space_(theta);
  Flat f = flatten(theta, space);
  TORCH_CHECK_VALUE((f.present == f.present[0]).all().item<bool>(), function,
                    ": every instance must have the same absent parts");
  at::Tensor present = f.present[0].to(at::kByte).contiguous();
  auto algorithm = space.factory();
  constexpr int64_t kMaxTraces = 200000;
  std::vector<solvers::EnumeratedTrace> all;
  try {
    all = solvers::enumerate_traces(*algorithm, present.data_ptr<uint8_t>(), kMaxTraces);
  } catch (const std::length_error&) {
    TORCH_CHECK_VALUE(false, function, ": the instance has more than ", kMaxTraces, " traces; enumerate smaller ones");
  }
  int64_t longest = 0;
  for (const auto& t : all) longest = std::max<int64_t>(longest, int64_t(t.trace.size()));
  const int64_t count = int64_t(all.size()), size = algorithm->structure_size();
  Trace out;
  out.trace = at::full({count, longest}, -1, at::kLong);
  out.lengths = at::empty({count}, at::kLong);
  at::Tensor structures = at::empty({count, size}, at::kDouble);
  for (int64_t m = 0; m < count; ++m) {
    std::copy(all[m].trace.begin(), all[m].trace.end(), out.trace.data_ptr<int64_t>() + m * longest);
    out.lengths.data_ptr<int64_t>()[m] = int64_t(all[m].trace.size());
    std::copy(all[m].structure.begin(), all[m].structure.end(), structures.data_ptr<double>() + m * size);
  }
  out.structure = structures.reshape(concat({count}, space.structure_shape)).to(theta.scalar_type());
  return out;
}

void TraceVerbs::install(Family& family) const {
  TraceVerbs verbs = *this;
  family.enumerate_traces = [verbs](const at::Tensor& theta) { return verbs.enumerate_traces(theta); };
  family.trace = [verbs](const at::Tensor& theta, GeneratorOpt g) { return verbs.trace(theta, g); };
  family.trace_log_prob = [verbs](const at::Tensor& theta, const at::Tensor& t) { return verbs.trace_log_prob(theta, t); };
  family.conditional_gumbel = [verbs](const at::Tensor& theta, const at::Tensor& t, GeneratorOpt g) {
    return verbs.conditional_gumbel(theta, t, g);
  };
}

at::Tensor unordered_log_prob(const char* function, const at::Tensor& theta, const at::Tensor& parts,
                              const KeySpace& space) {
  const int64_t m = parts.size(-1);
  TORCH_CHECK_VALUE(m <= 8, function, ": the exact probability sums over the m! orders of the structure's ", m,
                    " parts; m <= 8 is supported");
  auto orders = solvers::permutations(m);
  at::Tensor order_index = at::empty({int64_t(orders.size()), m}, at::kLong);
  for (size_t o = 0; o < orders.size(); ++o)
    for (int64_t i = 0; i < m; ++i) order_index[o][i] = orders[o][i];
  // (S, *batch, m!, m) traces against theta expanded to (S, *batch, m!, *event).
  std::vector<int64_t> lead(parts.sizes().begin(), parts.sizes().end() - 1);
  at::Tensor all_orders = parts.index_select(-1, order_index.reshape(-1)).reshape(concat(lead, {order_index.size(0), m}));
  std::vector<int64_t> theta_view(lead.size() - (theta.dim() - space.event_dim), 1);
  for (int64_t d = 0; d < theta.dim(); ++d) theta_view.push_back(theta.size(d));
  theta_view.insert(theta_view.end() - space.event_dim, 1);
  std::vector<int64_t> expanded = concat(lead, {order_index.size(0)});
  for (int64_t d = theta.dim() - space.event_dim; d < theta.dim(); ++d) expanded.push_back(theta.size(d));
  at::Tensor repeated = theta.reshape(theta_view).expand(expanded);
  return at::logsumexp(trace_log_prob(function, repeated, all_orders, space), -1);
}

at::Tensor run_on(const at::Tensor& scores, const KeySpace& space) {
  Flat f = flatten(scores, space);
  ops::TraceSample s = ops::recursive_trace(f.theta, f.present, space.factory, c10::nullopt, space.infeasible,
                                            /*perturb=*/false);
  return s.structure.reshape(concat(f.batch, space.structure_shape));
}

}  // namespace structgrad::recursive
