// structgrad structured-vae: the seed 003 structured VAE (Fig. 3) with pairwise encoders.
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/structured_vae.h"

namespace structgrad::cli {

Command structured_vae_command(CLI::App& app) {
  auto config = std::make_shared<experiments::StructuredVaeConfig>();
  config->steps = 2000;
  CLI::App* command = app.add_subcommand(
      "structured-vae", "train the seed 003 structured VAE (15 binary latents): unstructured, supermodular and "
                        "general pairwise encoders (Fig. 3)");
  add_training_options(command, *config, config->output_directory);
  command->add_option("--eval-samples", config->eval_samples, "draws of z* per test image")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--general-solver", config->general_solver,
                      "argmax of the general encoder in training: enumeration or integer_program (CBC)")
      ->capture_default_str();
  command->add_option("--eps-start", config->eps.start, "direct: eps at step 0 (negative: towards the lower loss)")
      ->capture_default_str();
  command->add_option("--eps-min", config->eps.minimum, "direct: the least |eps|")->capture_default_str();
  command->add_option("--data", config->data_directory, "Fashion-MNIST IDX directory")->capture_default_str();
  command->add_option("--only", config->only,
                      "run only these labels (direct, gumbel_softmax, arm, reinforce_loo2, direct_supermodular, "
                      "direct_general)");
  return {command, [config] {
            experiments::run_structured_vae(*config);
            return 0;
          }};
}

}  // namespace structgrad::cli
