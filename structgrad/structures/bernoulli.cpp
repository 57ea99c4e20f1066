#include "structgrad/structures/bernoulli.h"

#include "structgrad/ops/check.h"
#include "structgrad/structures/pairwise_binary.h"
#include "structgrad/structures/relaxation.h"

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
  check_theta("bernoulli.relax", theta);
  check::positive("bernoulli.relax", "tau", tau);
  at::Tensor perturbed = perturb(theta, generator);
  at::Tensor soft =
      regularized_argmax("bernoulli.relax", perturbed / tau, 1, backward, [](const at::Tensor& z) { return at::sigmoid(z); });
  if (!hard) return soft;
  return threshold(perturbed.detach()) + (soft - soft.detach());
}

at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x) {
  check_theta("bernoulli.log_prob", theta);
  TORCH_CHECK_VALUE(x.dim() >= 1 && x.size(-1) == theta.size(-1), "bernoulli.log_prob: x must end in n = ",
                    theta.size(-1), ", got shape ", check::shape_string(x.sizes()));
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

const Family& family() {
  static const Family bernoulli_family = [] {
    Family f;
    f.name = "bernoulli";
    f.event_dim = 1;
    f.map = [](const at::Tensor& theta) { return map(theta); };
    f.sample = [](const at::Tensor& theta, GeneratorOpt g) { return sample(theta, g); };
    f.perturbation = [](const at::Tensor& theta, GeneratorOpt g) { return perturb(theta, g); };
    f.relax = [](const at::Tensor& theta, const RelaxOptions& o, GeneratorOpt g) {
      check_only_regularizer("bernoulli.relax", o.regularizer, "binary_entropy");
      return relax(theta, o.tau, o.hard, g, o.backward.empty() ? "custom" : o.backward);
    };
    f.relax_perturbed = [](const at::Tensor& perturbed, const RelaxOptions& o) {
      check_only_regularizer("bernoulli.relax", o.regularizer, "binary_entropy");
      return at::sigmoid(perturbed / o.tau);
    };
    f.enumerate = [](const at::Tensor& theta) { return enumerate(theta.size(-1), theta.options()); };
    f.log_prob = [](const at::Tensor& theta, const at::Tensor& x) { return log_prob(theta, x); };
    f.mean = [](const at::Tensor& theta) { return at::sigmoid(theta); };
    return f;
  }();
  return bernoulli_family;
}

}  // namespace structgrad::bernoulli
