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
           "Every z in {0,1}^n: (2^n, n); n <= 16.");
}

}  // namespace structgrad::bernoulli
