#include "structgrad/structures/categorical.h"

#include "structgrad/ops/check.h"
#include "structgrad/ops/sparsemax.h"
#include "structgrad/structures/relaxation.h"

namespace structgrad::categorical {
namespace {

void check_theta(const char* function, const at::Tensor& theta) {
  check::logits(function, "theta", theta, 1);
  check::finite(function, "theta", theta);
}

at::Tensor one_hot_argmax(const at::Tensor& scores) {
  return at::one_hot(scores.argmax(-1), scores.size(-1)).to(scores.scalar_type());
}

// Checks a trace against theta and returns it as (*batch, 1) int64.
at::Tensor checked_trace(const char* function, const at::Tensor& theta, const at::Tensor& trace) {
  TORCH_CHECK_VALUE(trace.defined() && !at::isFloatingType(trace.scalar_type()), function,
                    ": trace must be an integer tensor");
  auto batch = theta.sizes().slice(0, theta.dim() - 1);
  std::vector<int64_t> expected(batch.begin(), batch.end());
  expected.push_back(1);
  TORCH_CHECK_VALUE(trace.sizes() == at::IntArrayRef(expected), function, ": trace must have shape ",
                    check::shape_string(expected), " for theta of shape ",
                    check::shape_string(theta.sizes()), ", got ",
                    check::shape_string(trace.sizes()));
  const int64_t n = theta.size(-1);
  TORCH_CHECK_VALUE(((trace >= 0) & (trace < n)).all().item<bool>(), function,
                    ": trace holds an index outside [0, ", n, ")");
  return trace.to(at::kLong);
}

}  // namespace

at::Tensor map(const at::Tensor& theta) {
  check_theta("categorical.map", theta);
  return one_hot_argmax(theta);
}

at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator) {
  check_theta("categorical.sample", theta);
  return one_hot_argmax(theta + gumbel_noise(theta.sizes(), theta.options(), generator));
}

at::Tensor relax(const at::Tensor& theta, double tau, const std::string& regularizer, bool hard,
                 GeneratorOpt generator, const std::string& backward) {
  check_theta("categorical.relax", theta);
  check::positive("categorical.relax", "tau", tau);
  TORCH_CHECK_VALUE(regularizer == "entropy" || regularizer == "euclidean",
                    "categorical.relax: regularizer must be \"entropy\" or \"euclidean\", got \"",
                    regularizer, "\"");
  at::Tensor perturbed = theta + gumbel_noise(theta.sizes(), theta.options(), generator);
  at::Tensor scaled = perturbed / tau;
  auto solve = [regularizer](const at::Tensor& z) {
    return regularizer == "entropy" ? at::softmax(z, -1) : ops::sparsemax(z);
  };
  at::Tensor soft = regularized_argmax("categorical.relax", scaled, 1, backward, solve);
  if (!hard) return soft;
  // (soft - soft) is exactly zero, so the forward is exactly the one-hot sample.
  return one_hot_argmax(perturbed.detach()) + (soft - soft.detach());
}

at::Tensor log_partition(const at::Tensor& theta) {
  check_theta("categorical.log_partition", theta);
  return at::logsumexp(theta, -1);
}

at::Tensor marginals(const at::Tensor& theta) {
  check_theta("categorical.marginals", theta);
  return at::softmax(theta, -1);
}

at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x) {
  check_theta("categorical.log_prob", theta);
  TORCH_CHECK_VALUE(x.dim() >= 1 && x.size(-1) == theta.size(-1), "categorical.log_prob: x must end in ",
                    theta.size(-1), " categories, got shape ", check::shape_string(x.sizes()));
  return (x.to(theta.scalar_type()) * at::log_softmax(theta, -1)).sum(-1);
}

at::Tensor enumerate(int64_t n, const at::TensorOptions& options) {
  TORCH_CHECK_VALUE(n >= 1, "categorical.enumerate: n must be at least 1, got ", n);
  return at::eye(n, options);
}

Trace trace(const at::Tensor& theta, GeneratorOpt generator) {
  check_theta("categorical.trace", theta);
  at::Tensor e = exponential_noise(theta.sizes(), theta.options(), generator);
  // argmin_i E_i / exp(theta_i) = argmax_i theta_i - log E_i: the Gumbel-max sample.
  at::Tensor perturbed = theta - at::log(e);
  at::Tensor first = perturbed.detach().argmax(-1, /*keepdim=*/true);
  at::Tensor structure = at::one_hot(first.squeeze(-1), theta.size(-1)).to(theta.scalar_type());
  return {structure, first, at::ones(first.sizes().slice(0, first.dim() - 1), at::kLong), perturbed};
}

at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace) {
  check_theta("categorical.trace_log_prob", theta);
  at::Tensor index = checked_trace("categorical.trace_log_prob", theta, trace);
  return at::log_softmax(theta, -1).gather(-1, index).squeeze(-1);
}

at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace,
                              GeneratorOpt generator) {
  check_theta("categorical.conditional_gumbel", theta);
  at::Tensor index = checked_trace("categorical.conditional_gumbel", theta, trace);
  at::Tensor g = gumbel_noise(theta.sizes(), theta.options(), generator);
  // max_i (theta_i + G_i) ~ Gumbel(logsumexp theta) independently of which i attains it.
  at::Tensor top = at::logsumexp(theta, -1, /*keepdim=*/true) + g.gather(-1, index);
  // theta_i + G_i conditioned below `top`: -log(exp(-top) + exp(-(theta_i + G_i))).
  at::Tensor below = -at::logaddexp(-top, -(theta + g));
  return below.scatter(-1, index, top);
}

const Family& family() {
  static const Family categorical_family = [] {
    Family f;
    f.name = "categorical";
    f.event_dim = 1;
    f.map = [](const at::Tensor& theta) { return map(theta); };
    f.sample = [](const at::Tensor& theta, GeneratorOpt g) { return sample(theta, g); };
    f.relax = [](const at::Tensor& theta, const RelaxOptions& o, GeneratorOpt g) {
      return relax(theta, o.tau, o.regularizer.empty() ? "entropy" : o.regularizer, o.hard, g,
                   o.backward.empty() ? "custom" : o.backward);
    };
    f.enumerate = [](const at::Tensor& theta) {
      return enumerate(theta.size(-1), theta.options());
    };
    f.log_prob = [](const at::Tensor& theta, const at::Tensor& x) { return log_prob(theta, x); };
    f.mean = [](const at::Tensor& theta) { return at::softmax(theta, -1); };
    f.relax_perturbed = [](const at::Tensor& perturbed, const RelaxOptions& o) {
      const std::string regularizer = o.regularizer.empty() ? "entropy" : o.regularizer;
      TORCH_CHECK_VALUE(regularizer == "entropy" || regularizer == "euclidean",
                        "categorical.relax: regularizer must be \"entropy\" or \"euclidean\", got \"", regularizer, "\"");
      return regularizer == "entropy" ? at::softmax(perturbed / o.tau, -1) : ops::sparsemax(perturbed / o.tau);
    };
    f.trace = [](const at::Tensor& theta, GeneratorOpt g) { return trace(theta, g); };
    f.trace_log_prob = [](const at::Tensor& theta, const at::Tensor& t) { return trace_log_prob(theta, t); };
    f.conditional_gumbel = [](const at::Tensor& theta, const at::Tensor& t, GeneratorOpt g) {
      return conditional_gumbel(theta, t, g);
    };
    return f;
  }();
  return categorical_family;
}

}  // namespace structgrad::categorical
