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
  double parameter_checksum = 0;  // of the trained parameters (data_parallel.h)
};

// Indices of shuffled epochs over n items, batch_size at a time; a new permutation from
// `generator` when the current one has fewer than batch_size left. Under data parallelism
// (data_parallel.h) the permutations come from DataParallel's batch generator and next() is this
// process's shard of the batch.
class ShuffledBatches {
 public:
  ShuffledBatches(int64_t n, int64_t batch_size, at::Generator& generator);
  at::Tensor next();

 private:
  int64_t n_, batch_size_;
  at::Generator generator_;
  at::Tensor order_;
  int64_t cursor_ = 0;
};

// Batches of examples of one length, for sequence models with no padding (each batch's LSTMs and
// latent structures then have one size): each length's indices, shuffled when `generator` is
// given, cut into batches of at most batch_size; the batches shuffled too. Without a generator,
// in order of length, for evaluation.
std::vector<at::Tensor> length_batches(const at::Tensor& lengths, int64_t batch_size,
                                       c10::optional<at::Generator> generator);

// Shuffled epochs of length_batches. Under data parallelism, as ShuffledBatches, and a batch with
// fewer examples than processes is skipped.
class LengthBatches {
 public:
  LengthBatches(const at::Tensor& lengths, int64_t batch_size, at::Generator& generator);
  at::Tensor next();

 private:
  at::Tensor lengths_;
  int64_t batch_size_;
  at::Generator generator_;
  std::vector<at::Tensor> batches_;
  size_t cursor_ = 0;
};

// Minimizes objective(x) over batches x of train_images with Adam on `parameters` (each process its
// shard of the batch under data parallelism, the gradients averaged: data_parallel.h), evaluating
// test_loss(images) every eval_every steps on the first eval_images test images and at the end
// on all of them. The batch order comes from `generator`.
TrainingResult train(const std::string& label, const at::Tensor& train_images, const at::Tensor& test_images,
                     const TrainingConfig& config, const std::vector<at::Tensor>& parameters,
                     const std::function<at::Tensor(const at::Tensor&)>& objective,
                     const std::function<double(const at::Tensor&)>& test_loss, at::Generator& generator);

// The loop of `train` for experiments that compose their own batches (labelled and unlabelled
// examples, say): step_objective(step), step counting from 1, returns that step's loss.
TrainingResult train_steps(const std::string& label, const at::Tensor& test_images, const TrainingConfig& config,
                           const std::vector<at::Tensor>& parameters,
                           const std::function<at::Tensor(int64_t step)>& step_objective,
                           const std::function<double(const at::Tensor&)>& test_loss);

// Writes curves.csv (label, step, seconds, test_loss), summary.csv and summary.json (the JSON
// object `settings_json` with the training settings every experiment shares, steps, batch_size,
// learning_rate and seed from `config`, and a "results" entry per result added) under
// `directory`, then plots the curves to test_loss.png; returns whether the plot was written (it
// needs matplotlib). summary.json has each result's parameter_checksum and their sum. Only the
// first process of a data-parallel run writes.
bool write_results(const std::vector<TrainingResult>& results, const TrainingConfig& config,
                   const std::string& directory, const std::string& settings_json, const std::string& plot_title);

// Whether a run labelled `label` is to run when only the labels in `only` are asked for (all
// when `only` is empty).
bool selected(const std::vector<std::string>& only, const std::string& label);

// Which CSV columns a plot draws: one line per value of `label`, y against x, and, where
// `reference` names a column, that column dashed in the same colour (a paper's figures).
struct PlotAxes {
  std::string x = "step", y = "test_loss";
  std::string x_label = "training step", y_label = "test loss";
  std::string reference, reference_label;  // reference_label: its legend entry (default: the column)
  bool log_x = false;
};

// Plots a CSV to a PNG with the project's plotting script; returns false (with a message on
// stderr) when Python or matplotlib is missing.
bool plot_curves(const std::string& csv_path, const std::string& png_path, const std::string& title,
                 const PlotAxes& axes = {});

}  // namespace structgrad::experiments
