#include "structgrad/ops/trace.h"

#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "structgrad/core/check.h"

namespace structgrad::ops {
namespace {

// Below this a group's sum of max-shifted weights is recomputed in log space.
constexpr double kLinearFloor = 1e-250;

void check_instances(const char* function, const at::Tensor& theta, const at::Tensor& present) {
  TORCH_CHECK_VALUE(theta.dim() == 2 && present.sizes() == theta.sizes(), function,
                    ": theta and present must both be (B, N), got ", check::shape_string(theta.sizes()), " and ",
                    check::shape_string(present.sizes()));
}

at::Tensor as_bytes(const at::Tensor& present) { return present.to(at::kByte).contiguous(); }

// out[index[i]] = max of values[i] (-inf where no value lands); values are detached: the maxima
// only shift logsumexps, which cancels in value and gradient.
at::Tensor segment_max(const at::Tensor& values, const at::Tensor& index, int64_t size) {
  at::Tensor v = values.detach().to(at::kDouble).contiguous(), i = index.contiguous();
  at::Tensor out = at::full({size}, -std::numeric_limits<double>::infinity(), at::kDouble);
  double* o = out.data_ptr<double>();
  const double* x = v.data_ptr<double>();
  const int64_t* k = i.data_ptr<int64_t>();
  for (int64_t j = 0; j < v.numel(); ++j) o[k[j]] = std::max(o[k[j]], x[j]);
  return out;
}

}  // namespace

TraceSample recursive_trace(const at::Tensor& theta, const at::Tensor& present, const RecursionFactory& factory,
                            GeneratorOpt generator, const char* infeasible, bool perturb) {
  check_instances("recursive_trace", theta, present);
  const int64_t instances = theta.size(0), keys = theta.size(1);
  at::Tensor noise = perturb ? gumbel_noise({instances, keys}, at::kDouble, generator)
                             : at::zeros({instances, keys}, at::kDouble);
  // theta + noise, in float64 for the solver and in theta's dtype (differentiable) for the
  // caller. Where those are one tensor (float64 theta that needs no gradient), it is written
  // into the noise's buffer: a fresh tensor of the batch's size costs more than the recursion.
  const bool own_buffer = theta.scalar_type() == at::kDouble && !theta.requires_grad();
  at::Tensor perturbed = own_buffer ? at::Tensor() : theta + noise.to(theta.scalar_type());
  at::Tensor scores = noise.add_(theta.detach());
  at::Tensor mask = as_bytes(present);
  const int64_t structure_size = factory()->structure_size();
  at::Tensor structure = at::zeros({instances, structure_size}, at::kDouble);
  std::vector<std::vector<int64_t>> traces(instances);
  std::atomic<bool> failed{false};
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    auto algorithm = factory();
    for (int64_t b = begin; b < end; ++b) {
      auto result = solvers::run(*algorithm, scores.data_ptr<double>() + b * keys, mask.data_ptr<uint8_t>() + b * keys);
      if (result.status != solvers::RecursionRun::Status::kOk) {
        failed = true;
        continue;
      }
      algorithm->combine(structure.data_ptr<double>() + b * structure_size);
      traces[b] = std::move(result.trace);
    }
  });
  TORCH_CHECK_VALUE(!failed, infeasible);
  int64_t longest = 0;
  for (const auto& t : traces) longest = std::max<int64_t>(longest, int64_t(t.size()));
  at::Tensor trace = at::full({instances, longest}, -1, at::kLong);
  at::Tensor lengths = at::empty({instances}, at::kLong);
  for (int64_t b = 0; b < instances; ++b) {
    std::copy(traces[b].begin(), traces[b].end(), trace.data_ptr<int64_t>() + b * longest);
    lengths.data_ptr<int64_t>()[b] = int64_t(traces[b].size());
  }
  return {structure.to(theta.scalar_type()), trace, lengths, own_buffer ? scores : perturbed};
}

TracePrograms replay_traces(const at::Tensor& present, const at::Tensor& trace, const at::Tensor& lengths,
                            const RecursionFactory& factory, const char* function) {
  TORCH_CHECK_VALUE(present.dim() == 2, function, ": present must be (B, N)");
  const int64_t instances = present.size(0), keys = present.size(1);
  TORCH_CHECK_VALUE(trace.dim() == 2 && trace.size(0) == instances && !at::isFloatingType(trace.scalar_type()),
                    function, ": trace must be an integer tensor (B, L) with B = ", instances, ", got ",
                    check::shape_string(trace.sizes()));
  TORCH_CHECK_VALUE(lengths.dim() == 1 && lengths.size(0) == instances && !at::isFloatingType(lengths.scalar_type()),
                    function, ": lengths must be an integer tensor (B) with B = ", instances, ", got ",
                    check::shape_string(lengths.sizes()));
  at::Tensor steps = trace.to(at::kLong).contiguous(), counts = lengths.to(at::kLong).contiguous();
  const int64_t width = steps.size(1);
  TORCH_CHECK_VALUE(((counts >= 0) & (counts <= width)).all().item<bool>(), function,
                    ": lengths must lie in [0, ", width, "]");
  at::Tensor mask = as_bytes(present);
  std::vector<solvers::TraceProgram> programs(instances);
  std::vector<std::string> errors(instances);
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    auto algorithm = factory();
    for (int64_t b = begin; b < end; ++b) {
      auto status = solvers::replay(*algorithm, steps.data_ptr<int64_t>() + b * width, counts.data_ptr<int64_t>()[b],
                                    mask.data_ptr<uint8_t>() + b * keys, programs[b]);
      if (!status.ok) errors[b] = status.message;
    }
  });
  for (int64_t b = 0; b < instances; ++b)
    TORCH_CHECK_VALUE(errors[b].empty(), function, ": the trace of instance ", b, " is invalid: ", errors[b]);

  const bool single_group = instances > 0 && programs[0].single_group;
  int64_t total_members = 0, total_groups = 0;
  for (const auto& p : programs) {
    TORCH_CHECK(p.single_group == single_group, function, ": instances replayed in different layouts");
    total_members += int64_t(p.members.size());
    total_groups += p.num_groups();
  }
  TracePrograms out;
  out.single_group = single_group;
  out.members = at::empty({total_members}, at::kLong);
  out.member_group = at::empty({total_members}, at::kLong);
  out.chosen = at::empty({total_groups}, at::kLong);
  out.group_instance = at::empty({total_groups}, at::kLong);
  out.group_offsets = at::empty({total_groups + 1}, at::kLong);
  out.instance_groups = at::empty({instances + 1}, at::kLong);
  out.present = mask.to(at::kBool);
  if (single_group) out.exit_level = at::empty({instances, keys}, at::kInt);
  int64_t* members = out.members.data_ptr<int64_t>();
  int64_t* member_group = out.member_group.data_ptr<int64_t>();
  int64_t* chosen = out.chosen.data_ptr<int64_t>();
  int64_t* group_instance = out.group_instance.data_ptr<int64_t>();
  int64_t* group_offsets = out.group_offsets.data_ptr<int64_t>();
  int64_t* instance_groups = out.instance_groups.data_ptr<int64_t>();
  int64_t m = 0, g = 0;
  for (int64_t b = 0; b < instances; ++b) {
    instance_groups[b] = g;
    const auto& p = programs[b];
    if (single_group)
      std::copy(p.exit_level.begin(), p.exit_level.end(), out.exit_level.data_ptr<int32_t>() + b * keys);
    for (int64_t local = 0; local < p.num_groups(); ++local, ++g) {
      group_offsets[g] = m;
      chosen[g] = p.chosen[local];
      group_instance[g] = b;
      if (single_group) continue;
      for (int32_t i = p.offsets[local]; i < p.offsets[local + 1]; ++i, ++m) {
        members[m] = p.members[i];
        member_group[m] = g;
      }
    }
  }
  group_offsets[g] = m;
  instance_groups[instances] = g;
  return out;
}

namespace {

// The log normalizer of every group (log sum of exp(theta) over its members) and, in the general
// layout, how it was computed: in linear space on weights shifted by the instance's largest
// member score where the sum stays above kLinearFloor, in log space otherwise.
struct GroupSums {
  std::vector<double> shift;    // (B) the instance's largest member score (general layout)
  std::vector<double> log_sum;  // (G)
  std::vector<uint8_t> linear;  // (G) computed in linear space (general layout)
};

GroupSums group_sums(const double* theta, int64_t keys, const TracePrograms& p) {
  const int64_t instances = p.instance_groups.size(0) - 1;
  const int64_t* members = p.members.data_ptr<int64_t>();
  const int64_t* offsets = p.group_offsets.data_ptr<int64_t>();
  const int64_t* instance_groups = p.instance_groups.data_ptr<int64_t>();
  GroupSums sums{std::vector<double>(instances, 0), std::vector<double>(p.chosen.size(0), 0),
                 std::vector<uint8_t>(p.chosen.size(0), 1)};
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const double* row = theta + b * keys;
      const int64_t first = instance_groups[b], last = instance_groups[b + 1];
      double shift = -std::numeric_limits<double>::infinity();
      for (int64_t i = offsets[first]; i < offsets[last]; ++i) shift = std::max(shift, row[members[i]]);
      sums.shift[b] = shift;
      for (int64_t g = first; g < last; ++g) {
        double total = 0;
        for (int64_t i = offsets[g]; i < offsets[g + 1]; ++i) total += std::exp(row[members[i]] - shift);
        if (total > kLinearFloor) {
          sums.log_sum[g] = std::log(total) + shift;
          continue;
        }
        sums.linear[g] = 0;
        double top = -std::numeric_limits<double>::infinity();
        for (int64_t i = offsets[g]; i < offsets[g + 1]; ++i) top = std::max(top, row[members[i]]);
        double scaled = 0;
        for (int64_t i = offsets[g]; i < offsets[g + 1]; ++i) scaled += std::exp(row[members[i]] - top);
        sums.log_sum[g] = std::log(scaled) + top;
      }
    }
  });
  return sums;
}

double logaddexp(double a, double b) {
  if (a < b) std::swap(a, b);
  return b == -std::numeric_limits<double>::infinity() ? a : a + std::log1p(std::exp(b - a));
}

// Single-group layout: group l of an instance holds the keys with exit level > l, so its log sum
// is a suffix logsumexp over the levels of the per-exit-level sums (only log_sum is filled).
GroupSums level_sums(const double* theta, int64_t keys, const TracePrograms& p) {
  const int64_t instances = p.instance_groups.size(0) - 1;
  const int64_t* instance_groups = p.instance_groups.data_ptr<int64_t>();
  const int32_t* exit_level = p.exit_level.data_ptr<int32_t>();
  GroupSums sums{{}, std::vector<double>(p.chosen.size(0), 0), {}};
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> top, total;
    for (int64_t b = begin; b < end; ++b) {
      const int64_t first = instance_groups[b], levels = instance_groups[b + 1] - first;
      const double* row = theta + b * keys;
      const int32_t* exits = exit_level + b * keys;
      top.assign(levels + 1, -std::numeric_limits<double>::infinity());
      total.assign(levels + 1, 0.0);
      for (int64_t k = 0; k < keys; ++k)
        if (exits[k] > 0) top[exits[k]] = std::max(top[exits[k]], row[k]);
      for (int64_t k = 0; k < keys; ++k)
        if (exits[k] > 0) total[exits[k]] += std::exp(row[k] - top[exits[k]]);
      double suffix = -std::numeric_limits<double>::infinity();
      for (int64_t l = levels - 1; l >= 0; --l) {
        if (total[l + 1] > 0) suffix = logaddexp(suffix, std::log(total[l + 1]) + top[l + 1]);
        sums.log_sum[first + l] = suffix;
      }
    }
  });
  return sums;
}

// d log P / d theta_k = (times k was chosen) - sum over k's groups of exp(theta_k - log_sum).
// Single-group: the groups of k are 0 .. exit - 1, a prefix logsumexp of -log_sum.
void single_group_gradient(const double* theta, int64_t keys, const TracePrograms& p, const GroupSums& sums,
                           const double* upstream, double* grad) {
  const int64_t instances = p.instance_groups.size(0) - 1;
  const int64_t* instance_groups = p.instance_groups.data_ptr<int64_t>();
  const int32_t* exit_level = p.exit_level.data_ptr<int32_t>();
  const int64_t* chosen = p.chosen.data_ptr<int64_t>();
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> prefix;
    for (int64_t b = begin; b < end; ++b) {
      const int64_t first = instance_groups[b], levels = instance_groups[b + 1] - first;
      prefix.assign(levels + 1, -std::numeric_limits<double>::infinity());
      for (int64_t l = 0; l < levels; ++l) prefix[l + 1] = logaddexp(prefix[l], -sums.log_sum[first + l]);
      const double* row = theta + b * keys;
      const int32_t* exits = exit_level + b * keys;
      double* out = grad + b * keys;
      for (int64_t k = 0; k < keys; ++k)
        if (exits[k] > 0) out[k] = -std::exp(row[k] + prefix[exits[k]]);
      for (int64_t g = first; g < first + levels; ++g) out[chosen[g]] += 1;
      for (int64_t k = 0; k < keys; ++k) out[k] *= upstream[b];
    }
  });
}

void general_gradient(const double* theta, int64_t keys, const TracePrograms& p, const GroupSums& sums,
                      const double* upstream, double* grad) {
  const int64_t instances = p.instance_groups.size(0) - 1;
  const int64_t* members = p.members.data_ptr<int64_t>();
  const int64_t* offsets = p.group_offsets.data_ptr<int64_t>();
  const int64_t* chosen = p.chosen.data_ptr<int64_t>();
  const int64_t* instance_groups = p.instance_groups.data_ptr<int64_t>();
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> inverse_sums(keys);
    for (int64_t b = begin; b < end; ++b) {
      const double* row = theta + b * keys;
      double* out = grad + b * keys;
      std::fill(inverse_sums.begin(), inverse_sums.end(), 0.0);
      bool any_linear = false;
      for (int64_t g = instance_groups[b]; g < instance_groups[b + 1]; ++g) {
        out[chosen[g]] += 1;
        if (sums.linear[g]) {
          // softmax_k = exp(theta_k - shift) / total: accumulate 1 / total per key.
          const double inverse = std::exp(sums.shift[b] - sums.log_sum[g]);
          for (int64_t i = offsets[g]; i < offsets[g + 1]; ++i) inverse_sums[members[i]] += inverse;
          any_linear = true;
        } else {
          for (int64_t i = offsets[g]; i < offsets[g + 1]; ++i) out[members[i]] -= std::exp(row[members[i]] - sums.log_sum[g]);
        }
      }
      if (any_linear)
        for (int64_t k = 0; k < keys; ++k)
          if (inverse_sums[k] != 0) out[k] -= std::exp(row[k] - sums.shift[b]) * inverse_sums[k];
      for (int64_t k = 0; k < keys; ++k) out[k] *= upstream[b];
    }
  });
}

// Which saved tensors a program needs, by layout.
void save_programs(torch::autograd::AutogradContext* ctx, const at::Tensor& weights, const TracePrograms& p) {
  ctx->save_for_backward({weights, p.single_group ? p.exit_level : p.members, p.chosen, p.group_offsets,
                          p.instance_groups});
  ctx->saved_data["single_group"] = p.single_group;
}

TracePrograms load_programs(torch::autograd::AutogradContext* ctx) {
  auto saved = ctx->get_saved_variables();
  TracePrograms p;
  p.single_group = ctx->saved_data["single_group"].toBool();
  (p.single_group ? p.exit_level : p.members) = saved[1];
  p.chosen = saved[2];
  p.group_offsets = saved[3];
  p.instance_groups = saved[4];
  return p;
}

GroupSums normalizers(const double* theta, int64_t keys, const TracePrograms& p) {
  return p.single_group ? level_sums(theta, keys, p) : group_sums(theta, keys, p);
}

// The forward's normalizers, kept for the backward instead of recomputed.
template <class T>
at::Tensor as_tensor(const std::vector<T>& values, at::ScalarType type) {
  return at::from_blob(const_cast<T*>(values.data()), {int64_t(values.size())}, type).clone();
}

template <class T>
std::vector<T> as_vector(const at::Tensor& t) {
  return {t.data_ptr<T>(), t.data_ptr<T>() + t.numel()};
}

void save_sums(torch::autograd::AutogradContext* ctx, const GroupSums& sums) {
  ctx->saved_data["shift"] = as_tensor(sums.shift, at::kDouble);
  ctx->saved_data["log_sum"] = as_tensor(sums.log_sum, at::kDouble);
  ctx->saved_data["linear"] = as_tensor(sums.linear, at::kByte);
}

GroupSums load_sums(torch::autograd::AutogradContext* ctx) {
  return {as_vector<double>(ctx->saved_data["shift"].toTensor()), as_vector<double>(ctx->saved_data["log_sum"].toTensor()),
          as_vector<uint8_t>(ctx->saved_data["linear"].toTensor())};
}

class TraceLogProbFunction : public torch::autograd::Function<TraceLogProbFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& theta,
                            const TracePrograms& programs) {
    at::Tensor weights = theta.detach().to(at::kDouble).contiguous();
    const int64_t instances = weights.size(0), keys = weights.size(1);
    GroupSums sums = normalizers(weights.data_ptr<double>(), keys, programs);
    const std::vector<double>& log_sum = sums.log_sum;
    at::Tensor out = at::zeros({instances}, at::kDouble);
    const int64_t* chosen = programs.chosen.data_ptr<int64_t>();
    const int64_t* group_instance = programs.group_instance.data_ptr<int64_t>();
    for (int64_t g = 0; g < programs.chosen.size(0); ++g) {
      const int64_t b = group_instance[g];
      out.data_ptr<double>()[b] += weights.data_ptr<double>()[b * keys + chosen[g]] - log_sum[g];
    }
    save_programs(ctx, weights, programs);
    save_sums(ctx, sums);
    ctx->saved_data["dtype"] = theta.scalar_type();
    return out.to(theta.scalar_type());
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    at::Tensor weights = ctx->get_saved_variables()[0];
    TracePrograms p = load_programs(ctx);
    const int64_t keys = weights.size(1);
    const double* theta = weights.data_ptr<double>();
    at::Tensor upstream = grads[0].to(at::kDouble).contiguous();
    at::Tensor grad = at::zeros_like(weights);
    const GroupSums sums = load_sums(ctx);
    if (p.single_group)
      single_group_gradient(theta, keys, p, sums, upstream.data_ptr<double>(), grad.data_ptr<double>());
    else
      general_gradient(theta, keys, p, sums, upstream.data_ptr<double>(), grad.data_ptr<double>());
    return {grad.to(ctx->saved_data["dtype"].toScalarType()), at::Tensor()};
  }
};

}  // namespace

at::Tensor trace_log_prob(const at::Tensor& theta, const TracePrograms& programs) {
  TORCH_CHECK_VALUE(theta.dim() == 2 && theta.size(0) + 1 == programs.instance_groups.size(0), "trace_log_prob",
                    ": theta must be (B, N) with one program per instance");
  return TraceLogProbFunction::apply(theta, programs);
}

at::Tensor conditional_perturbation(const at::Tensor& theta, const TracePrograms& programs, GeneratorOpt generator) {
  check_instances("conditional_perturbation", theta, programs.present);
  const int64_t instances = theta.size(0), keys = theta.size(1), groups = programs.chosen.size(0);
  at::Tensor own_noise = exponential_noise({instances, keys}, at::kDouble, generator).reshape(-1);
  at::Tensor group_noise = exponential_noise({groups}, at::kDouble, generator);
  at::Tensor flat = theta.to(at::kDouble).reshape(-1);
  const double minus_inf = -std::numeric_limits<double>::infinity();

  // The member lists, which the single-group layout leaves implicit: key k of instance b is in
  // its groups l < exit_level[b, k].
  at::Tensor member_group = programs.member_group, members = programs.members;
  if (programs.single_group) {
    at::Tensor levels = programs.instance_groups.narrow(0, 1, instances) - programs.instance_groups.narrow(0, 0, instances);
    at::Tensor level = at::arange(levels.numel() ? levels.max().item<int64_t>() : 0, at::kLong).view({1, -1, 1});
    at::Tensor member = (programs.exit_level.unsqueeze(1) > level) & (level < levels.view({-1, 1, 1}));
    at::Tensor where = member.nonzero();  // (M, 3): instance, level, key, in group order
    member_group = programs.instance_groups.index_select(0, where.select(1, 0)) + where.select(1, 1);
    members = where.select(1, 2).contiguous();
  }

  // Every group's log sum of lambda. Shifts are detached: they cancel in value and gradient.
  at::Tensor member_key = programs.group_instance.index_select(0, member_group) * keys + members;
  at::Tensor member_theta = flat.index_select(0, member_key);
  at::Tensor group_shift = segment_max(member_theta, member_group, groups);
  at::Tensor group_sum = at::zeros({groups}, at::kDouble)
                             .index_add(0, member_group, at::exp(member_theta - group_shift.index_select(0, member_group)));
  at::Tensor group_log_sum = at::log(group_sum) + group_shift;

  // log E_j = logsumexp over j's groups of log(minimum) and, unless j was chosen, its residual.
  at::Tensor group_term = at::log(group_noise) - group_log_sum;
  at::Tensor chosen_key = programs.group_instance * keys + programs.chosen;
  at::Tensor unchosen = programs.present.reshape(-1).clone().index_fill_(0, chosen_key, false);
  at::Tensor own_term = (at::log(own_noise) - flat).masked_fill(~unchosen, minus_inf);
  at::Tensor terms = at::cat({group_term.index_select(0, member_group), own_term});
  at::Tensor term_key = at::cat({member_key, at::arange(instances * keys, at::kLong)});
  at::Tensor key_shift = segment_max(terms, term_key, instances * keys);
  at::Tensor present = programs.present.reshape(-1);
  key_shift = key_shift.masked_fill(~present, 0);
  at::Tensor key_sum = at::zeros({instances * keys}, at::kDouble)
                           .index_add(0, term_key, at::exp(terms - key_shift.index_select(0, term_key)));
  // Absent keys have no terms: where() keeps log(0) out of the value and the gradient.
  at::Tensor log_e = at::log(at::where(present, key_sum, at::ones_like(key_sum))) + key_shift;
  return (-log_e).masked_fill(~present, minus_inf).reshape({instances, keys}).to(theta.scalar_type());
}

}  // namespace structgrad::ops
