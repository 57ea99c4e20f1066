// structgrad igr-vae: the seed 004 discrete VAE with IGR-I, IGR-Planar, IGR-SB and GS latents.
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/igr_vae.h"

namespace structgrad::cli {

Command igr_vae_command(CLI::App& app) {
  auto config = std::make_shared<experiments::IgrVaeConfig>();
  CLI::App* command = app.add_subcommand(
      "igr-vae", "train the seed 004 discrete VAE (30 x 10 latents) with IGR-I, IGR-Planar, IGR-SB and GS");
  add_training_options(command, *config, config->output_directory);
  command->add_option("--prior-fit-steps", config->prior_fit_steps, "Eq. 20 steps per IGR prior")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command->add_option("--data", config->data_directory, "Fashion-MNIST IDX directory")->capture_default_str();
  command->add_option("--only", config->only, "run only these labels (gs_0.67, igr_0.50, ...)");
  return {command, [config] {
            experiments::run_igr_vae(*config);
            return 0;
          }};
}

}  // namespace structgrad::cli
