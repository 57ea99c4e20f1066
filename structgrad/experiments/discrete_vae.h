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
#include <vector>

#include "structgrad/estimators/estimators.h"
#include "structgrad/experiments/idx.h"

namespace structgrad::experiments {

struct DiscreteVaeConfig {
  int64_t categories = 10;
  int64_t hidden = 300;
  int64_t batch_size = 100;
  int64_t steps = 1600;
  int64_t eval_every = 200;
  int64_t eval_images = 2000;  // intermediate points use a test subset; the final one all of it
  double learning_rate = 1e-3;
  uint64_t seed = 0;
  bool progress = true;
};

// One estimator with its parameters, under a label for tables ("relaxed tau=0.5").
struct EstimatorRun {
  std::string label;
  std::string estimator;
  estimators::Options options;
};

struct CurvePoint {
  int64_t step;
  double seconds;  // training time so far, evaluation excluded
  double test_loss;
};

struct DiscreteVaeResult {
  std::string label;
  std::vector<CurvePoint> curve;  // the last point is on the whole test set
  double final_test_loss = 0;
  double train_seconds = 0;
};

DiscreteVaeResult train_discrete_vae(const EstimatorRun& run, const ImageDataset& data,
                                     const DiscreteVaeConfig& config);

}  // namespace structgrad::experiments
