#include "structgrad/structures/bernoulli.h"

#include "structgrad/core/check.h"
#include "structgrad/structures/operators.h"
#include "structgrad/structures/pairwise_binary.h"
#include "structgrad/structures/relaxation.h"
#include "structgrad/structures/support.h"

namespace structgrad::bernoulli {
namespace {

void check_theta(const char* function, const at::Tensor& theta) {
  check::logits(function, "theta", theta, 1);
  check::finite(function, "theta", theta);
}

at::Tensor threshold(const at::Tensor& scores) { return (scores > 0).to(scores.scalar_type()); }

// The trace as 0/1 of theta's dtype, after checking its type, shape and values.
at::Tensor checked_trace(const char* function, const at::Tensor& theta, const at::Tensor& trace) {
  TORCH_CHECK_VALUE(trace.defined() && !at::isFloatingType(trace.scalar_type()), function,
                    ": trace must be an integer tensor");
  TORCH_CHECK_VALUE(trace.sizes() == theta.sizes(), function, ": trace must have theta's shape ",
                    check::shape_string(theta.sizes()), ", got ", check::shape_string(trace.sizes()));
  TORCH_CHECK_VALUE(((trace == 0) | (trace == 1)).all().item<bool>(), function, ": trace must hold 0 or 1");
  return trace.to(theta.scalar_type());
}

}  // namespace

at::Tensor map(const at::Tensor& theta) {
  check_theta("bernoulli.map", theta);
  return threshold(theta);
}

at::Tensor perturb(const at::Tensor& theta, GeneratorOpt generator) {
  check_theta("bernoulli.perturb", theta);
  return theta + logistic_noise(theta.sizes(), theta.options(), generator);
}

at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator) {
  check_theta("bernoulli.sample", theta);
  return threshold(perturb(theta, generator).detach());
}

at::Tensor relax(const at::Tensor& theta, double tau, bool hard, GeneratorOpt generator, const std::string& backward) {
  const RelaxOptions options{tau, "", hard, explicit_backward("bernoulli.relax", backward)};
  return family().relax(theta, options, generator);
}

at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x) {
  check_theta("bernoulli.log_prob", theta);
  TORCH_CHECK_VALUE(x.dim() >= 1 && x.size(-1) == theta.size(-1), "bernoulli.log_prob: x must end in n = ",
                    theta.size(-1), ", got shape ", check::shape_string(x.sizes()));
  check_indicators("bernoulli.log_prob", x);
  return (x.to(theta.scalar_type()) * theta - at::softplus(theta)).sum(-1);
}

at::Tensor log_partition(const at::Tensor& theta) {
  check_theta("bernoulli.log_partition", theta);
  return at::softplus(theta).sum(-1);
}

at::Tensor marginals(const at::Tensor& theta) {
  check_theta("bernoulli.marginals", theta);
  return at::sigmoid(theta);
}

Trace trace(const at::Tensor& theta, GeneratorOpt generator) {
  check_theta("bernoulli.trace", theta);
  at::Tensor perturbed = theta + logistic_noise(theta.sizes(), theta.options(), generator);
  at::Tensor structure = threshold(perturbed.detach());
  auto batch = theta.sizes().slice(0, theta.dim() - 1);
  return {structure, structure.to(at::kLong), at::full(batch, theta.size(-1), at::kLong), perturbed};
}

at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace) {
  check_theta("bernoulli.trace_log_prob", theta);
  return (checked_trace("bernoulli.trace_log_prob", theta, trace) * theta - at::softplus(theta)).sum(-1);
}

at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, GeneratorOpt generator) {
  check_theta("bernoulli.conditional_gumbel", theta);
  const at::Tensor chosen = checked_trace("bernoulli.conditional_gumbel", theta, trace).to(at::kDouble) > 0.5;
  // v in (0, 1) strictly, so that every logarithm below is finite.
  const double tiny = 1e-12;
  at::Tensor v = at::empty(theta.sizes(), at::kDouble).uniform_(tiny, 1 - tiny, generator);
  at::Tensor t = theta.to(at::kDouble);
  const at::Tensor log_p = at::log_sigmoid(t), log_q = at::log_sigmoid(-t);  // log P(1), log P(0)
  // u = sigmoid(-theta) + v sigmoid(theta) (chosen) or v sigmoid(-theta): logit(u) = log u - log(1 - u).
  at::Tensor logit_u = at::where(chosen, at::log1p(-at::exp(log_p) * (1 - v)) - (log_p + at::log1p(-v)),
                                 (at::log(v) + log_q) - at::log1p(-v * at::exp(log_q)));
  return (t + logit_u).to(theta.scalar_type());
}

at::Tensor enumerate(int64_t n, const at::TensorOptions& options) {
  TORCH_CHECK_VALUE(n >= 1 && n <= 16, "bernoulli.enumerate: n must be in [1, 16], got ", n);
  return pairwise_binary::enumerate(n, options);
}

Family family() {
  Family f;
  f.name = "bernoulli";
  f.event_dim = 1;
  f.check = check_theta;
  f.map = map;
  f.sample = sample;
  f.perturbation = perturb;
  f.relax_scores = [](const char* function, const at::Tensor& perturbed, const RelaxOptions& o) {
    check::positive(function, "tau", o.tau);
    check_only_regularizer(function, o.regularizer, "binary_entropy");
    return regularized_argmax(function, perturbed / o.tau, 1, or_default(o.backward, "custom"),
                              [](const at::Tensor& z) { return at::sigmoid(z); });
  };
  f.enumerate = enumerate_by_size(enumerate);
  f.log_prob = log_prob;
  f.log_partition = log_partition;
  f.marginals = marginals;
  // Perturb-and-MAP is exact for independent choices: the Gibbs law is sample's.
  f.gibbs_sample = sample;
  f.mean = f.marginals;
  f.trace = trace;
  f.trace_log_prob = trace_log_prob;
  f.conditional_gumbel = conditional_gumbel;
  return f;
}

TORCH_LIBRARY_FRAGMENT(structgrad, library) {
  FamilyOperators(library, "bernoulli")
      .def("map(Tensor theta) -> Tensor", &map, "1[theta > 0].")
      .def("sample(Tensor theta, Generator? generator=None) -> Tensor", &sample,
           "1[theta + L > 0], L logistic: Bernoulli(sigmoid(theta)).")
      .def("perturb(Tensor theta, Generator? generator=None) -> Tensor", &perturb,
           "theta + L, the perturbation ``sample`` thresholds (the same draw for the same generator state).")
      .def("relax(Tensor theta, float tau, bool hard=False, Generator? generator=None, str backward=\"custom\") "
           "-> Tensor",
           &relax,
           "The binary Concrete sigmoid((theta + L) / tau); hard=True: the exact sample forward. "
           "backward: \"custom\" or \"finite_difference\".")
      .def("gibbs_sample(Tensor theta, Generator? generator=None) -> Tensor", &sample,
           "An exact sample of the Gibbs distribution p(x) ∝ exp(<theta, x>), the independent Bernoulli(sigmoid(theta)) draws: the same law, and "
           "for one generator the same draw, as ``sample``.")
      .def_gibbs_verbs<&family>("")
      .def("log_partition(Tensor theta) -> Tensor", &log_partition, "sum_i softplus(theta_i): (*batch).")
      .def("marginals(Tensor theta) -> Tensor", &marginals, "sigmoid(theta).")
      .def("log_prob(Tensor theta, Tensor x) -> Tensor", &log_prob, "log P(z = x) for x (*, *batch, n): (*, *batch).")
      .def("enumerate(int n, ScalarType? dtype=None) -> Tensor",
           [](int64_t n, c10::optional<at::ScalarType> dtype) { return enumerate(n, enumerate_options(dtype)); },
           "Every z in {0,1}^n: (2^n, n); n <= 16.")
      .def("trace(Tensor theta, Generator? generator=None) -> " STRUCTGRAD_TRACE_RETURNS,
           [](const at::Tensor& theta, GeneratorOpt g) { return trace_tuple(trace(theta, g)); },
           "The sample with its trace (the sample as int64 0/1, every length n) and theta + L; the same draw as "
           "``sample`` for the same generator state.")
      .def("trace_log_prob(Tensor theta, Tensor trace) -> Tensor", &trace_log_prob,
           "log P(trace) = sum_i t_i theta_i - softplus(theta_i), differentiable in theta: (*batch).")
      .def("conditional_gumbel(Tensor theta, Tensor trace, Generator? generator=None) -> Tensor",
           &conditional_gumbel,
           "theta + L given the sample ``trace`` (REBAR's conditional noise), reparameterized in theta: (*batch, n).");
}

}  // namespace structgrad::bernoulli
