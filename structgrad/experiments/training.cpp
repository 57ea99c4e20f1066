#include "structgrad/experiments/training.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "structgrad/experiments/data_parallel.h"
#include "structgrad/experiments/progress.h"

namespace structgrad::experiments {
namespace {

std::string plot_script() {
  if (const char* path = std::getenv("STRUCTGRAD_PLOT_SCRIPT")) return path;
  for (std::string candidate : {std::string(STRUCTGRAD_SOURCE_DIR) + "/scripts/plot_curves.py",
                                std::string(STRUCTGRAD_DATA_DIR) + "/plot_curves.py"})
    if (std::filesystem::exists(candidate)) return candidate;
  return "";
}

}  // namespace

ShuffledBatches::ShuffledBatches(int64_t n, int64_t batch_size, at::Generator& generator)
    : n_(n), batch_size_(batch_size), generator_(DataParallel::process().batch_generator(generator)) {
  TORCH_CHECK_VALUE(batch_size >= 1 && batch_size <= n, "ShuffledBatches: batch_size must be in [1, n = ", n,
                    "], got ", batch_size);
  order_ = at::randperm(n_, generator_);
}

at::Tensor ShuffledBatches::next() {
  if (cursor_ + batch_size_ > n_) {
    order_ = at::randperm(n_, generator_);
    cursor_ = 0;
  }
  cursor_ += batch_size_;
  return DataParallel::process().shard(order_.slice(0, cursor_ - batch_size_, cursor_));
}

std::vector<at::Tensor> length_batches(const at::Tensor& lengths, int64_t batch_size,
                                       c10::optional<at::Generator> generator) {
  TORCH_CHECK_VALUE(batch_size >= 1, "length_batches: batch_size must be positive, got ", batch_size);
  TORCH_CHECK_VALUE(lengths.dim() == 1 && lengths.numel() >= 1, "length_batches: lengths must be a non-empty vector");
  std::vector<at::Tensor> batches;
  const int64_t longest = lengths.max().item<int64_t>();
  for (int64_t n = 1; n <= longest; ++n) {
    at::Tensor index = (lengths == n).nonzero().flatten();
    if (index.numel() == 0) continue;
    if (generator) index = index.index_select(0, at::randperm(index.numel(), *generator, at::kLong));
    for (int64_t start = 0; start < index.numel(); start += batch_size)
      batches.push_back(index.slice(0, start, std::min(start + batch_size, index.numel())));
  }
  if (generator) {
    at::Tensor order = at::randperm(int64_t(batches.size()), *generator, at::kLong);
    std::vector<at::Tensor> shuffled;
    for (int64_t i = 0; i < order.numel(); ++i) shuffled.push_back(batches[order[i].item<int64_t>()]);
    batches = std::move(shuffled);
  }
  return batches;
}

LengthBatches::LengthBatches(const at::Tensor& lengths, int64_t batch_size, at::Generator& generator)
    : lengths_(lengths), batch_size_(batch_size), generator_(DataParallel::process().batch_generator(generator)) {}

at::Tensor LengthBatches::next() {
  DataParallel& parallel = DataParallel::process();
  // Every process skips the same batches (they draw the same ones); an epoch with none to keep
  // would skip forever.
  size_t skipped = 0;
  while (true) {
    if (cursor_ == batches_.size()) {
      batches_ = length_batches(lengths_, batch_size_, generator_);
      cursor_ = 0;
    }
    const at::Tensor& batch = batches_[cursor_++];
    if (batch.numel() >= parallel.world_size()) return parallel.shard(batch);
    TORCH_CHECK_VALUE(++skipped <= batches_.size(), "LengthBatches: no batch has as many examples as the ",
                      parallel.world_size(), " data-parallel processes (batch_size ", batch_size_, ")");
  }
}

TrainingResult train(const std::string& label, const at::Tensor& train_images, const at::Tensor& test_images,
                     const TrainingConfig& config, const std::vector<at::Tensor>& parameters,
                     const std::function<at::Tensor(const at::Tensor&)>& objective,
                     const std::function<double(const at::Tensor&)>& test_loss, at::Generator& generator) {
  TORCH_CHECK_VALUE(config.batch_size >= 1, "train: batch_size must be positive, got ", config.batch_size);
  TORCH_CHECK_VALUE(config.batch_size <= train_images.size(0), "train: batch_size (", config.batch_size,
                    ") exceeds the ", train_images.size(0), " training images");
  ShuffledBatches batches(train_images.size(0), config.batch_size, generator);
  return train_steps(
      label, test_images, config, parameters,
      [&](int64_t) { return objective(train_images.index_select(0, batches.next())); }, test_loss);
}

TrainingResult train_steps(const std::string& label, const at::Tensor& test_images, const TrainingConfig& config,
                           const std::vector<at::Tensor>& parameters,
                           const std::function<at::Tensor(int64_t step)>& step_objective,
                           const std::function<double(const at::Tensor&)>& test_loss) {
  TORCH_CHECK_VALUE(config.steps >= 1 && config.batch_size >= 1 && config.eval_every >= 1 && config.eval_images >= 1,
                    "train: steps, batch_size, eval_every and eval_images must be positive");
  torch::optim::Adam optimizer(parameters, torch::optim::AdamOptions(config.learning_rate));
  const at::Tensor eval_subset = test_images.slice(0, 0, config.eval_images);

  TrainingResult result;
  result.label = label;
  DataParallel& parallel = DataParallel::process();
  ProgressBar progress(label, config.steps, config.progress && parallel.writes_results());
  for (int64_t step = 1; step <= config.steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    at::Tensor loss = step_objective(step);
    optimizer.zero_grad();
    loss.backward();
    parallel.average_gradients(parameters);
    optimizer.step();
    result.train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (step % config.eval_every == 0 || step == config.steps) {
      torch::NoGradGuard no_grad;
      const double loss_value = test_loss(step == config.steps ? test_images : eval_subset);
      result.curve.push_back({step, result.train_seconds, loss_value});
      progress.update(step, "test loss " + std::to_string(loss_value));
    } else {
      progress.update(step);
    }
  }
  result.final_test_loss = result.curve.back().test_loss;
  result.parameter_checksum = parameter_checksum(parameters);
  progress.finish("test loss " + std::to_string(result.final_test_loss));
  return result;
}

bool selected(const std::vector<std::string>& only, const std::string& label) {
  return only.empty() || std::find(only.begin(), only.end(), label) != only.end();
}

bool plot_curves(const std::string& csv_path, const std::string& png_path, const std::string& title,
                 const PlotAxes& axes) {
  const std::string script = plot_script();
  if (script.empty()) {
    std::fprintf(stderr, "plot skipped: scripts/plot_curves.py not found\n");
    return false;
  }
  std::string command = "/usr/bin/python3 '" + script + "' '" + csv_path + "' '" + png_path + "' --title '" +
                        title + "' --x '" + axes.x + "' --y '" + axes.y + "' --xlabel '" + axes.x_label +
                        "' --ylabel '" + axes.y_label + "'";
  if (!axes.reference.empty()) command += " --reference '" + axes.reference + "'";
  if (!axes.reference_label.empty()) command += " --reference-label '" + axes.reference_label + "'";
  if (axes.log_x) command += " --logx";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "plot skipped: %s failed (is python3-matplotlib installed?)\n", command.c_str());
    return false;
  }
  return true;
}

bool write_results(const std::vector<TrainingResult>& results, const TrainingConfig& config,
                   const std::string& directory, const std::string& settings_json, const std::string& plot_title) {
  if (!DataParallel::process().writes_results()) return false;
  const std::filesystem::path dir = directory;
  std::filesystem::create_directories(dir);
  std::ofstream curves(dir / "curves.csv");
  curves << "label,step,seconds,test_loss\n";
  std::ofstream summary(dir / "summary.csv");
  summary << "label,steps,train_seconds,test_loss\n";
  nlohmann::json json = nlohmann::json::parse(settings_json);
  json["steps"] = config.steps;
  json["batch_size"] = config.batch_size;
  json["learning_rate"] = config.learning_rate;
  json["seed"] = config.seed;
  json["results"] = nlohmann::json::array();
  double checksum = 0;
  for (const auto& r : results) {
    checksum += r.parameter_checksum;
    for (const auto& p : r.curve) curves << r.label << ',' << p.step << ',' << p.seconds << ',' << p.test_loss << '\n';
    summary << r.label << ',' << r.curve.back().step << ',' << r.train_seconds << ',' << r.final_test_loss << '\n';
    json["results"].push_back(
        {{"label", r.label},
         {"test_loss", r.final_test_loss},
         {"train_seconds", r.train_seconds},
         {"parameter_checksum", r.parameter_checksum}});
  }
  json["parameter_checksum"] = checksum;
  std::ofstream(dir / "summary.json") << json.dump(2) << '\n';
  curves.close();
  return plot_curves((dir / "curves.csv").string(), (dir / "test_loss.png").string(), plot_title);
}

}  // namespace structgrad::experiments
