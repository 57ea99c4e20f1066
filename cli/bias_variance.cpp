// structgrad bias-variance: seed 003 Fig. 1 at a checkpoint trained with the exact gradient.
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/bias_variance.h"

namespace structgrad::cli {

Command bias_variance_command(CLI::App& app) {
  auto config = std::make_shared<experiments::BiasVarianceConfig>();
  auto quick = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "bias-variance", "seed 003 Fig. 1: bias and std of the direct gradient against eps and of Gumbel-softmax "
                       "against tau, at parameters trained with the exact gradient");
  add_training_options(command, *config, config->output_directory);
  command->add_flag("--quick", *quick, "a smoke run: 300 steps, 200 draws, three eps and three tau");
  command->add_option("--draws", config->draws, "gradient estimates per eps and per tau")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(2), int64_t(1) << 40));
  command->add_option("--images", config->images, "test images the gradient is of")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--eps", config->eps, "eps of direct (the seed's units)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  command->add_option("--tau", config->tau, "temperatures of Gumbel-softmax")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  command->add_option("--categories", config->categories, "K")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  command->add_option("--data", config->data_directory, "Fashion-MNIST IDX directory")->capture_default_str();
  return {command, [config, quick, command] {
            using Config = experiments::BiasVarianceConfig;
            QuickConfig<Config> quick_config(*config, *quick, command, &experiments::make_quick);
            quick_config.unless_given("--steps", &Config::steps)
                .unless_given("--eval-every", &Config::eval_every)
                .unless_given("--draws", &Config::draws)
                .unless_given("--eps", &Config::eps)
                .unless_given("--tau", &Config::tau);
            const Config& run = quick_config.run;
            experiments::run_bias_variance(run);
            return 0;
          }};
}

}  // namespace structgrad::cli
