#include "structgrad/experiments/demo.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace structgrad::experiments {

std::vector<EstimatorRun> demo_runs() {
  estimators::Options relaxed;
  relaxed.relax.tau = 0.5;
  estimators::Options relaxed_hard = relaxed;
  relaxed_hard.relax.hard = true;
  estimators::Options reinforce;
  reinforce.num_samples = 4;
  estimators::Options direct;
  return {{"exact", "exact", {}, {}},
          {"straight_through", "straight_through", {}, {}},
          {"gumbel_softmax", "relaxed", relaxed, {}},
          {"gumbel_softmax_st", "relaxed", relaxed_hard, {}},
          {"reinforce_loo4", "reinforce", reinforce, {}},
          {"direct", "direct", direct, seed003_eps_schedule(784)}};
}

std::vector<TrainingResult> run_demo(const DemoConfig& config) {
  std::fprintf(stderr, "loading Fashion-MNIST from %s\n", config.data_directory.c_str());
  const ImageDataset data = load_fashion_mnist(config.data_directory, /*binarize=*/true);
  std::vector<TrainingResult> results;
  for (const auto& run : demo_runs()) {
    if (selected(config.only, run.label)) results.push_back(train_discrete_vae(run, data, config.vae));
  }
  TORCH_CHECK_VALUE(!results.empty(), "demo: no estimator selected");
  const nlohmann::json settings = {{"experiment", "discrete_vae_fashion_mnist"},
                                   {"categories", config.vae.categories}};
  const bool plotted = write_results(results, config.vae, config.output_directory, settings.dump(),
                                     "Discrete VAE on Fashion-MNIST: test loss (-ELBO)");
  std::printf("\nDiscrete VAE, binarized Fashion-MNIST, K=%lld, %lld steps of batch %lld\n",
              static_cast<long long>(config.vae.categories), static_cast<long long>(config.vae.steps),
              static_cast<long long>(config.vae.batch_size));
  std::printf("%-20s %12s %12s\n", "estimator", "test loss", "train s");
  for (const auto& r : results)
    std::printf("%-20s %12.2f %12.1f\n", r.label.c_str(), r.final_test_loss, r.train_seconds);
  std::printf("\nresults: %s/{curves.csv,summary.csv,summary.json%s}\n", config.output_directory.c_str(),
              plotted ? ",test_loss.png" : "");
  return results;
}

}  // namespace structgrad::experiments
