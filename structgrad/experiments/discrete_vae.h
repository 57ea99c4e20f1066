// The discrete VAE of seed 003 §5 (Table 1): one categorical latent with K categories,
// encoder x -> FC(300) -> ReLU -> FC(K), decoder K -> FC(300) -> ReLU -> FC(784), Bernoulli
// (BCE) likelihood, uniform prior, Adam. Trained with any estimator of structgrad::estimators
// for the expectation over the latent; the KL to the prior is exact.
//
// Test loss is the exact negative ELBO, summing over all K latents, averaged over images.
#pragma once

#include <ATen/ATen.h>

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

// One estimator with its parameters, under a label for tables ("relaxed tau=0.5").
struct EstimatorRun {
  std::string label;
  std::string estimator;
  estimators::Options options;
  // For "direct": eps from this schedule at every step instead of options.direct.eps.
  c10::optional<estimators::EpsSchedule> eps_schedule;
};

TrainingResult train_discrete_vae(const EstimatorRun& run, const ImageDataset& data, const DiscreteVaeConfig& config);

}  // namespace structgrad::experiments
