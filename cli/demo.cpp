// structgrad demo: the seed 003 discrete VAE trained with every estimator.
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/demo.h"

namespace structgrad::cli {

Command demo_command(CLI::App& app) {
  auto config = std::make_shared<experiments::DemoConfig>();
  CLI::App* command = app.add_subcommand("demo", "train the seed 003 discrete VAE on Fashion-MNIST with each estimator");
  add_training_options(command, config->vae, config->output_directory);
  command->add_option("--data", config->data_directory, "Fashion-MNIST IDX directory")->capture_default_str();
  command->add_option("--only", config->only, "run only these estimator labels");
  return {command, [config] {
            experiments::run_demo(*config);
            return 0;
          }};
}

}  // namespace structgrad::cli
