// The discrete VAE of seed 003 §5 (Table 1): one categorical latent with K categories,
// encoder x -> FC(300) -> ReLU -> FC(K), decoder K -> FC(300) -> ReLU -> FC(784), Bernoulli
// (BCE) likelihood, uniform prior, Adam. Trained with any estimator of structgrad::estimators
// for the expectation over the latent; the KL to the prior is exact.
//
// Test loss is the exact negative ELBO, summing over all K latents, averaged over images.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "structgrad/estimators/estimators.h"
#include "structgrad/experiments/idx.h"
#include "structgrad/experiments/training.h"

namespace structgrad::experiments {

struct DiscreteVaeConfig : TrainingConfig {
  int64_t categories = 10;
  int64_t hidden = 300;
};

// The model: encoder x -> logits (B, K), decoder latents (*, K) -> pixel logits (*, pixels).
struct DiscreteVaeImpl : torch::nn::Module {
  DiscreteVaeImpl(int64_t pixels, int64_t hidden, int64_t categories);
  // -log p(x | z) for latents z (S, B, K) and images x (B, pixels): (S, B). Latents shared by the
  // whole batch (stride 0 along B: the exact estimator's K one-hots) are decoded once, not B times.
  at::Tensor reconstruction_loss(const at::Tensor& z, const at::Tensor& x);
  torch::nn::Sequential encoder, decoder;
};
TORCH_MODULE(DiscreteVae);

// One estimator with its parameters, under a label for tables ("relaxed tau=0.5").
struct EstimatorRun {
  std::string label;
  std::string estimator;
  estimators::Options options;
  // For "direct": eps from this schedule at every step instead of options.direct.eps.
  c10::optional<estimators::EpsSchedule> eps_schedule;
};

// Seed 003 §5's eps for direct: |eps| annealed from 1 every 1000 steps at rate 1e-5, down to 0.1
// at the least, towards the structure with the lower loss (a negative eps), as the seed's
// likelihood ascent. The seed's BCE is a mean over the pixels and the losses here are sums, so eps
// is divided by the number of pixels.
estimators::EpsSchedule seed003_eps_schedule(int64_t pixels);

// KL(softmax(theta) || uniform over K) for theta (*batch, K): (*batch).
at::Tensor kl_to_uniform(const at::Tensor& theta);

// Trains a new model (initialized from config.seed) with `run`'s estimator; test loss as above.
TrainingResult train_discrete_vae(const EstimatorRun& run, const ImageDataset& data, const DiscreteVaeConfig& config);
// The same, returning the trained model in `model`.
TrainingResult train_discrete_vae(const EstimatorRun& run, const ImageDataset& data, const DiscreteVaeConfig& config,
                                  DiscreteVae& model);

}  // namespace structgrad::experiments
