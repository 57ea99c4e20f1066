#include "structgrad/distributions/concrete.h"

#include <cmath>
#include <limits>

#include "structgrad/core/check.h"

namespace structgrad::distributions {

ExpConcrete::ExpConcrete(at::Tensor logits, double temperature)
    : logits_(std::move(logits)), temperature_(temperature) {
  check::logits("ExpConcrete", "logits", logits_, 1);
  check::finite("ExpConcrete", "logits", logits_);
  TORCH_CHECK_VALUE(logits_.size(-1) >= 2, "ExpConcrete: logits must have at least 2 categories, got ",
                    logits_.size(-1));
  check::positive("ExpConcrete", "temperature", temperature_);
}

at::Tensor ExpConcrete::rsample(at::IntArrayRef sample_shape, GeneratorOpt generator) const {
  std::vector<int64_t> sizes(sample_shape.begin(), sample_shape.end());
  sizes.insert(sizes.end(), logits_.sizes().begin(), logits_.sizes().end());
  at::Tensor g = gumbel_noise(sizes, logits_.options(), generator);
  return at::log_softmax((logits_ + g) / temperature_, -1);
}

at::Tensor ExpConcrete::log_prob(const at::Tensor& value) const {
  TORCH_CHECK_VALUE(value.dim() >= 1 && value.size(-1) == logits_.size(-1),
                    "ExpConcrete.log_prob: value must end in ", logits_.size(-1),
                    " categories, got shape ", check::shape_string(value.sizes()));
  check::no_nan("ExpConcrete.log_prob", "value", value);
  const int64_t n = logits_.size(-1);
  const double log_normalizer = std::lgamma(double(n)) + (n - 1) * std::log(temperature_);
  at::Tensor scores = logits_ - temperature_ * value;
  return log_normalizer + scores.sum(-1) - n * at::logsumexp(scores, -1);
}

Concrete::Concrete(at::Tensor logits, double temperature)
    : exp_concrete_(std::move(logits), temperature) {}

at::Tensor Concrete::rsample(at::IntArrayRef sample_shape, GeneratorOpt generator) const {
  return exp_concrete_.rsample(sample_shape, generator).exp();
}

at::Tensor Concrete::log_prob(const at::Tensor& value) const {
  check::no_nan("Concrete.log_prob", "value", value);
  // A zero entry (an underflowed draw) lies outside the open simplex: -inf, as for IGR, rather
  // than the inf - inf of its log; log(1) there keeps the graph free of it.
  at::Tensor interior = (value > 0).all(-1, true);
  at::Tensor log_value = at::where(interior, value, at::ones_like(value)).log();
  at::Tensor log_p = exp_concrete_.log_prob(log_value) - log_value.sum(-1);
  return log_p.masked_fill(~interior.squeeze(-1), -std::numeric_limits<double>::infinity());
}

}  // namespace structgrad::distributions
