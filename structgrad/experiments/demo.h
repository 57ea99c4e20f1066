// `structgrad demo`: the seed 003 discrete VAE on binarized Fashion-MNIST, trained once with
// each estimator, then a table of test losses, CSV/JSON results and a PNG of the curves.
#pragma once

#include <string>
#include <vector>

#include "structgrad/experiments/discrete_vae.h"

namespace structgrad::experiments {

struct DemoConfig {
  DiscreteVaeConfig vae;
  std::string data_directory = default_fashion_mnist_directory();
  std::string output_directory = "results/demo";
  std::vector<std::string> only;  // labels to run; empty: all
};

// The estimators the demo compares, with their parameters.
std::vector<EstimatorRun> demo_runs();

// Trains, prints the table to stdout, writes curves.csv, summary.csv, summary.json and
// test_loss.png (when matplotlib is available) under output_directory.
std::vector<TrainingResult> run_demo(const DemoConfig& config);

}  // namespace structgrad::experiments
