#include "structgrad/experiments/discrete_vae.h"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>

#include "structgrad/experiments/progress.h"
#include "structgrad/structures/categorical.h"

namespace structgrad::experiments {
namespace {

struct DiscreteVaeImpl : torch::nn::Module {
  DiscreteVaeImpl(int64_t pixels, int64_t hidden, int64_t categories)
      : encoder(register_module("encoder", torch::nn::Sequential(torch::nn::Linear(pixels, hidden),
                                                                 torch::nn::ReLU(),
                                                                 torch::nn::Linear(hidden, categories)))),
        decoder(register_module("decoder", torch::nn::Sequential(torch::nn::Linear(categories, hidden),
                                                                 torch::nn::ReLU(),
                                                                 torch::nn::Linear(hidden, pixels)))) {}

  torch::nn::Sequential encoder, decoder;
};
TORCH_MODULE(DiscreteVae);

// -log p(x | z) for latents z (S, B, K) and images x (B, pixels): (S, B).
at::Tensor reconstruction_loss(DiscreteVae& model, const at::Tensor& z, const at::Tensor& x) {
  at::Tensor logits = model->decoder->forward(z);
  return at::binary_cross_entropy_with_logits(logits, x.expand_as(logits), {}, {},
                                              at::Reduction::None)
      .sum(-1);
}

// KL(softmax(theta) || uniform over K): (B).
at::Tensor kl_to_uniform(const at::Tensor& theta) {
  at::Tensor log_q = at::log_softmax(theta, -1);
  return (log_q.exp() * log_q).sum(-1) + std::log(double(theta.size(-1)));
}

double test_loss(DiscreteVae& model, const at::Tensor& images) {
  torch::NoGradGuard no_grad;
  const Family& family = categorical::family();
  double total = 0;
  for (int64_t start = 0; start < images.size(0); start += 1000) {
    at::Tensor x = images.slice(0, start, start + 1000);
    at::Tensor theta = model->encoder->forward(x);
    auto f = [&](const at::Tensor& z) { return reconstruction_loss(model, z, x); };
    total += (estimators::exact(family, theta, f).loss + kl_to_uniform(theta)).sum().item<double>();
  }
  return total / double(images.size(0));
}

}  // namespace

DiscreteVaeResult train_discrete_vae(const EstimatorRun& run, const ImageDataset& data,
                                     const DiscreteVaeConfig& config) {
  TORCH_CHECK_VALUE(config.steps >= 1 && config.batch_size >= 1 && config.eval_every >= 1,
                    "train_discrete_vae: steps, batch_size and eval_every must be positive");
  torch::manual_seed(config.seed);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  const Family& family = categorical::family();
  DiscreteVae model(data.train_images.size(1), config.hidden, config.categories);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(config.learning_rate));
  const at::Tensor eval_subset = data.test_images.slice(0, 0, config.eval_images);

  DiscreteVaeResult result;
  result.label = run.label;
  ProgressBar progress(run.label, config.steps, config.progress);
  at::Tensor order = at::randperm(data.train_images.size(0), generator);
  int64_t cursor = 0;
  double train_seconds = 0;
  for (int64_t step = 1; step <= config.steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    if (cursor + config.batch_size > order.size(0)) {
      order = at::randperm(data.train_images.size(0), generator);
      cursor = 0;
    }
    at::Tensor x = data.train_images.index_select(0, order.slice(0, cursor, cursor + config.batch_size));
    cursor += config.batch_size;

    at::Tensor theta = model->encoder->forward(x);
    auto f = [&](const at::Tensor& z) { return reconstruction_loss(model, z, x); };
    estimators::Estimate est = estimators::estimate(run.estimator, family, theta, f, run.options, generator);
    at::Tensor objective = (est.surrogate + kl_to_uniform(theta).sum()) / double(config.batch_size);
    optimizer.zero_grad();
    objective.backward();
    optimizer.step();
    train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (step % config.eval_every == 0 || step == config.steps) {
      const bool last = step == config.steps;
      const double loss = test_loss(model, last ? data.test_images : eval_subset);
      result.curve.push_back({step, train_seconds, loss});
      progress.update(step, "test loss " + std::to_string(loss));
    } else {
      progress.update(step);
    }
  }
  result.final_test_loss = result.curve.back().test_loss;
  result.train_seconds = train_seconds;
  progress.finish("test loss " + std::to_string(result.final_test_loss));
  return result;
}

}  // namespace structgrad::experiments
