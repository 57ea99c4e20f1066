#include "structgrad/experiments/demo.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace structgrad::experiments {
namespace {

std::string plot_script() {
  if (const char* path = std::getenv("STRUCTGRAD_PLOT_SCRIPT")) return path;
  for (std::string candidate : {std::string(STRUCTGRAD_SOURCE_DIR) + "/scripts/plot_curves.py",
                                std::string(STRUCTGRAD_DATA_DIR) + "/plot_curves.py"})
    if (std::filesystem::exists(candidate)) return candidate;
  return "";
}

void write_results(const std::vector<DiscreteVaeResult>& results, const DemoConfig& config) {
  const std::filesystem::path dir = config.output_directory;
  std::filesystem::create_directories(dir);
  std::ofstream curves(dir / "curves.csv");
  curves << "label,step,seconds,test_loss\n";
  std::ofstream summary(dir / "summary.csv");
  summary << "label,steps,train_seconds,test_loss\n";
  nlohmann::json json = {{"experiment", "discrete_vae_fashion_mnist"},
                         {"categories", config.vae.categories},
                         {"batch_size", config.vae.batch_size},
                         {"steps", config.vae.steps},
                         {"learning_rate", config.vae.learning_rate},
                         {"seed", config.vae.seed},
                         {"results", nlohmann::json::array()}};
  for (const auto& r : results) {
    for (const auto& p : r.curve)
      curves << r.label << ',' << p.step << ',' << p.seconds << ',' << p.test_loss << '\n';
    summary << r.label << ',' << r.curve.back().step << ',' << r.train_seconds << ','
            << r.final_test_loss << '\n';
    json["results"].push_back({{"label", r.label},
                               {"test_loss", r.final_test_loss},
                               {"train_seconds", r.train_seconds}});
  }
  std::ofstream(dir / "summary.json") << json.dump(2) << '\n';
}

}  // namespace

std::vector<EstimatorRun> demo_runs() {
  estimators::Options relaxed;
  relaxed.relax.tau = 0.5;
  estimators::Options relaxed_hard = relaxed;
  relaxed_hard.relax.hard = true;
  estimators::Options reinforce;
  reinforce.num_samples = 4;
  return {{"exact", "exact", {}},
          {"straight_through", "straight_through", {}},
          {"gumbel_softmax", "relaxed", relaxed},
          {"gumbel_softmax_st", "relaxed", relaxed_hard},
          {"reinforce_loo4", "reinforce", reinforce}};
}

bool plot_curves(const std::string& csv_path, const std::string& png_path, const std::string& title) {
  const std::string script = plot_script();
  if (script.empty()) {
    std::fprintf(stderr, "plot skipped: scripts/plot_curves.py not found\n");
    return false;
  }
  const std::string command = "/usr/bin/python3 '" + script + "' '" + csv_path + "' '" + png_path +
                              "' --title '" + title + "'";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "plot skipped: %s failed (is python3-matplotlib installed?)\n", command.c_str());
    return false;
  }
  return true;
}

std::vector<DiscreteVaeResult> run_demo(const DemoConfig& config) {
  std::fprintf(stderr, "loading Fashion-MNIST from %s\n", config.data_directory.c_str());
  const ImageDataset data = load_fashion_mnist(config.data_directory, /*binarize=*/true);
  std::vector<DiscreteVaeResult> results;
  for (const auto& run : demo_runs()) {
    if (!config.only.empty() &&
        std::find(config.only.begin(), config.only.end(), run.label) == config.only.end())
      continue;
    results.push_back(train_discrete_vae(run, data, config.vae));
  }
  TORCH_CHECK_VALUE(!results.empty(), "demo: no estimator selected");
  write_results(results, config);

  std::printf("\nDiscrete VAE, binarized Fashion-MNIST, K=%lld, %lld steps of batch %lld\n",
              static_cast<long long>(config.vae.categories), static_cast<long long>(config.vae.steps),
              static_cast<long long>(config.vae.batch_size));
  std::printf("%-20s %12s %12s\n", "estimator", "test loss", "train s");
  for (const auto& r : results)
    std::printf("%-20s %12.2f %12.1f\n", r.label.c_str(), r.final_test_loss, r.train_seconds);
  const std::filesystem::path dir = config.output_directory;
  const bool plotted = plot_curves((dir / "curves.csv").string(), (dir / "test_loss.png").string(),
                                   "Discrete VAE on Fashion-MNIST: test loss (-ELBO)");
  std::printf("\nresults: %s/{curves.csv,summary.csv,summary.json%s}\n", config.output_directory.c_str(),
              plotted ? ",test_loss.png" : "");
  return results;
}

}  // namespace structgrad::experiments
