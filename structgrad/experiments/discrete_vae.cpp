#include "structgrad/experiments/discrete_vae.h"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "structgrad/core/check.h"
#include "structgrad/structures/categorical.h"

namespace structgrad::experiments {
namespace {

double test_loss(DiscreteVae& model, const at::Tensor& images) {
  torch::NoGradGuard no_grad;
  const Family family = categorical::family();
  double total = 0;
  for (int64_t start = 0; start < images.size(0); start += 1000) {
    at::Tensor x = images.slice(0, start, start + 1000);
    at::Tensor theta = model->encoder->forward(x);
    auto f = [&](const at::Tensor& z) { return model->reconstruction_loss(z, x); };
    total += (estimators::exact(family, theta, f).loss + kl_to_uniform(theta)).sum().item<double>();
  }
  return total / double(images.size(0));
}

}  // namespace

DiscreteVaeImpl::DiscreteVaeImpl(int64_t pixels, int64_t hidden, int64_t categories)
    : encoder(register_module("encoder", torch::nn::Sequential(torch::nn::Linear(pixels, hidden), torch::nn::ReLU(),
                                                               torch::nn::Linear(hidden, categories)))),
      decoder(register_module("decoder", torch::nn::Sequential(torch::nn::Linear(categories, hidden), torch::nn::ReLU(),
                                                               torch::nn::Linear(hidden, pixels)))) {}

at::Tensor DiscreteVaeImpl::reconstruction_loss(const at::Tensor& z, const at::Tensor& x) {
  const bool shared = z.dim() == 3 && z.size(1) > 1 && z.stride(1) == 0;
  at::Tensor logits = shared ? decoder->forward(z.select(1, 0)).unsqueeze(1).expand({z.size(0), x.size(0), -1})
                             : decoder->forward(z);
  return at::binary_cross_entropy_with_logits(logits, x.expand_as(logits), {}, {}, at::Reduction::None).sum(-1);
}

estimators::EpsSchedule seed003_eps_schedule(int64_t pixels) {
  TORCH_CHECK_VALUE(pixels >= 1, "seed003_eps_schedule: pixels must be positive, got ", pixels);
  estimators::EpsSchedule schedule;
  schedule.start = -1.0 / double(pixels);
  schedule.minimum = 0.1 / double(pixels);
  return schedule;
}

at::Tensor kl_to_uniform(const at::Tensor& theta) {
  check::logits("kl_to_uniform", "theta", theta, 1);
  at::Tensor log_q = at::log_softmax(theta, -1);
  return (log_q.exp() * log_q).sum(-1) + std::log(double(theta.size(-1)));
}

TrainingResult train_discrete_vae(const EstimatorRun& run, const ImageDataset& data, const DiscreteVaeConfig& config) {
  DiscreteVae model = nullptr;
  return train_discrete_vae(run, data, config, model);
}

TrainingResult train_discrete_vae(const EstimatorRun& run, const ImageDataset& data, const DiscreteVaeConfig& config,
                                  DiscreteVae& model) {
  torch::manual_seed(config.seed);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  const Family family = categorical::family();
  model = DiscreteVae(data.train_images.size(1), config.hidden, config.categories);
  estimators::Options options = run.options;
  int64_t step = 0;
  auto objective = [&](const at::Tensor& x) {
    if (run.eps_schedule) options.direct.eps = run.eps_schedule->value(step++);
    at::Tensor theta = model->encoder->forward(x);
    auto f = [&](const at::Tensor& z) { return model->reconstruction_loss(z, x); };
    estimators::Estimate est = estimators::estimate(run.estimator, family, theta, f, options, generator);
    return (est.surrogate + kl_to_uniform(theta).sum()) / double(x.size(0));
  };
  return train(run.label, data.train_images, data.test_images, config, model->parameters(), objective,
               [&](const at::Tensor& images) { return test_loss(model, images); }, generator);
}

}  // namespace structgrad::experiments
