#include "structgrad/structures/categorical.h"

#include "structgrad/core/check.h"
#include "structgrad/ops/sparsemax.h"
#include "structgrad/structures/operators.h"
#include "structgrad/structures/relaxation.h"
#include "structgrad/structures/support.h"

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
  const RelaxOptions options{tau, regularizer, hard, explicit_backward("categorical.relax", backward)};
  return family().relax(theta, options, generator);
}

at::Tensor relax_perturbed(const at::Tensor& perturbed, double tau, const std::string& regularizer,
                           const std::string& backward) {
  const RelaxOptions options{tau, regularizer, false, explicit_backward("categorical.relax_perturbed", backward)};
  return family().relax_perturbed(perturbed, options);
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
  check_indicators("categorical.log_prob", x);
  return outside_support_as_minus_infinity((x.to(theta.scalar_type()) * at::log_softmax(theta, -1)).sum(-1),
                                           x.sum(-1) == 1);
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

Family family() {
  Family f;
  f.name = "categorical";
  f.event_dim = 1;
  f.check = check_theta;
  f.map = map;
  f.sample = sample;
  f.relax_scores = [](const char* function, const at::Tensor& perturbed, const RelaxOptions& o) {
    check::positive(function, "tau", o.tau);
    const std::string regularizer = or_default(o.regularizer, "entropy");
    TORCH_CHECK_VALUE(regularizer == "entropy" || regularizer == "euclidean", function,
                      ": regularizer must be \"entropy\" or \"euclidean\", got \"", regularizer, "\"");
    auto solve = [regularizer](const at::Tensor& z) {
      return regularizer == "entropy" ? at::softmax(z, -1) : ops::sparsemax(z);
    };
    return regularized_argmax(function, perturbed / o.tau, 1, or_default(o.backward, "custom"), solve);
  };
  f.enumerate = enumerate_by_size(enumerate);
  f.log_prob = log_prob;
  f.log_partition = log_partition;
  f.marginals = marginals;
  // Perturb-and-MAP is exact for independent choices: the Gibbs law is sample's.
  f.gibbs_sample = sample;
  f.support = [](const at::Tensor& x) { return x.sum(-1) == 1; };
  f.mean = marginals;
  f.trace = trace;
  f.trace_log_prob = trace_log_prob;
  f.conditional_gumbel = conditional_gumbel;
  return f;
}

TORCH_LIBRARY_FRAGMENT(structgrad, library) {
  FamilyOperators(library, "categorical")
      .def("map(Tensor theta) -> Tensor", &map, "argmax_i theta_i as a one-hot vector.")
      .def("sample(Tensor theta, Generator? generator=None) -> Tensor", &sample,
           "Gumbel-max: map(theta + G), distributed as softmax(theta).")
      .def("relax(Tensor theta, float tau, str regularizer=\"entropy\", bool hard=False, Generator? generator=None, "
           "str backward=\"custom\") -> Tensor",
           &relax,
           "The stochastic softmax trick: regularized argmax of (theta + G) / tau.\n\n"
           "regularizer=\"entropy\" is the Gumbel-softmax, \"euclidean\" is sparsemax (closed-form backward). "
           "hard=True returns the exact sample forward and the relaxed gradient backward. backward=\"custom\" is "
           "the hand-written backward, \"finite_difference\" two more solver calls along the incoming gradient "
           "(the Jacobian is symmetric).")
      .def("relax_perturbed(Tensor perturbed, float tau, str regularizer=\"entropy\", str backward=\"custom\") "
           "-> Tensor",
           &relax_perturbed, "``relax`` on given perturbed scores (no noise drawn), e.g. from ``conditional_gumbel``.")
      .def("gibbs_sample(Tensor theta, Generator? generator=None) -> Tensor", &sample,
           "An exact sample of the Gibbs distribution p(x) ∝ exp(<theta, x>), a draw of softmax(theta): the same law, and "
           "for one generator the same draw, as ``sample``.")
      .def_gibbs_verbs<&family>("")
      .def("log_partition(Tensor theta) -> Tensor", &log_partition,
           "logsumexp(theta) over the last dimension: (*batch).")
      .def("marginals(Tensor theta) -> Tensor", &marginals,
           "softmax(theta): the probability of each category, (*batch, n).")
      .def("log_prob(Tensor theta, Tensor x) -> Tensor", &log_prob,
           "log P(sample(theta) == x) for one-hot x broadcastable to theta.")
      .def("enumerate(int n, ScalarType? dtype=None) -> Tensor",
           [](int64_t n, c10::optional<at::ScalarType> dtype) { return enumerate(n, enumerate_options(dtype)); },
           "All n one-hot vectors, (n, n).")
      .def("trace(Tensor theta, Generator? generator=None) -> " STRUCTGRAD_TRACE_RETURNS,
           [](const at::Tensor& theta, GeneratorOpt g) { return trace_tuple(trace(theta, g)); },
           "Recursive Gumbel-Max with one step: the sample and its trace, the argmin of E / exp(theta) with "
           "E ~ Exp(1); the same draw as ``sample`` for the same generator state.")
      .def("trace_log_prob(Tensor theta, Tensor trace) -> Tensor", &trace_log_prob,
           "log P(trace) = log_softmax(theta)[trace], differentiable in theta: (*batch).")
      .def("conditional_gumbel(Tensor theta, Tensor trace, Generator? generator=None) -> Tensor",
           &conditional_gumbel,
           "theta + G conditioned on argmax(theta + G) == trace (the -log E scale), reparameterized in theta: "
           "(*batch, n).");
}

}  // namespace structgrad::categorical
