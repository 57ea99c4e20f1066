// What the VAE experiments share: the minibatch training loop (shuffled epochs, Adam, training
// time without evaluation, a progress bar, a test-loss curve) and the results it records, written
// as curves.csv, summary.csv, summary.json and a PNG of the curves.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "structgrad/experiments/idx.h"

namespace structgrad::experiments {

struct TrainingConfig {
  int64_t batch_size = 100;
  int64_t steps = 1600;
  int64_t eval_every = 200;
  int64_t eval_images = 2000;  // intermediate points use a test subset; the final one all of it
  double learning_rate = 1e-3;
  uint64_t seed = 0;
  bool progress = true;
};

struct CurvePoint {
  int64_t step;
  double seconds;  // training time so far, evaluation excluded
  double test_loss;
};

struct TrainingResult {
  std::string label;
  std::vector<CurvePoint> curve;  // the last point is on the whole test set
  double final_test_loss = 0;
  double train_seconds = 0;
};

// Minimizes objective(x) over batches x of train_images with Adam on `parameters`, evaluating
// test_loss(images) every eval_every steps on the first eval_images test images and at the end
// on all of them. The batch order comes from `generator`.
TrainingResult train(const std::string& label, const at::Tensor& train_images, const at::Tensor& test_images,
                     const TrainingConfig& config, const std::vector<at::Tensor>& parameters,
                     const std::function<at::Tensor(const at::Tensor&)>& objective,
                     const std::function<double(const at::Tensor&)>& test_loss, at::Generator& generator);

// Writes curves.csv (label, step, seconds, test_loss), summary.csv and summary.json (the JSON
// object `settings_json` with a "results" entry per result added) under `directory`, then plots
// the curves to test_loss.png; returns whether the plot was written (it needs matplotlib).
bool write_results(const std::vector<TrainingResult>& results, const std::string& directory,
                   const std::string& settings_json, const std::string& plot_title);

// Whether a run labelled `label` is to run when only the labels in `only` are asked for (all
// when `only` is empty).
bool selected(const std::vector<std::string>& only, const std::string& label);

// Plots a curves CSV to a PNG with the project's plotting script; returns false (with a message
// on stderr) when Python or matplotlib is missing.
bool plot_curves(const std::string& csv_path, const std::string& png_path, const std::string& title);

}  // namespace structgrad::experiments
