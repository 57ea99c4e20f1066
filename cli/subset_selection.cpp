// structgrad subset-selection: L2X-style k-subset selection (seed 000's L2X table, seed 002 Table 1).
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/subset_selection.h"

namespace structgrad::cli {

Command subset_selection_command(CLI::App& app) {
  auto config = std::make_shared<experiments::SubsetSelectionConfig>();
  config->steps = 3000;
  config->batch_size = 50;
  config->eval_every = 250;
  auto quick = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "subset-selection", "learn to explain ratings by selecting k tokens: topk relaxations, correlated_topk, the "
                          "score-function, direct and Gumbel-Rao estimators (seed 000 L2X table, seed 002 Table 1)");
  add_training_options(command, *config, config->output_directory);
  command->add_flag("--quick", *quick, "a smoke run of minutes: small data, 150 steps, k = 5, the simple encoder");
  command->add_option("--seeds", config->seeds, "model initializations per row (mean ± std)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--k", config->ks, "subset sizes (5,10,15)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  command->add_option("--encoder", config->encoders, "simple (one convolution) and/or complex (three)")
      ->capture_default_str()
      ->delimiter(',');
  command->add_option("--train-examples", config->train_examples, "training reviews")->capture_default_str();
  command->add_option("--tau", config->tau, "temperature of the relaxations")->capture_default_str();
  command->add_option("--num-samples", config->num_samples, "samples per review of the score-function estimators")
      ->capture_default_str();
  command->add_option("--direct-eps", config->direct_eps, "the loss augmentation of topk_direct")->capture_default_str();
  command->add_option("--only", config->only, "run only these methods (labels as in summary.json, comma-separated)")
      ->delimiter(',');
  return {command, [config, quick, command] {
            experiments::SubsetSelectionConfig run = *config;
            if (*quick) {
              // --quick's settings where the command line does not give its own.
              experiments::SubsetSelectionConfig small = run;
              experiments::make_quick(small);
              auto given = [&](const char* name) { return command->get_option(name)->count() > 0; };
              run.quick = true;
              run.train_examples = given("--train-examples") ? run.train_examples : small.train_examples;
              run.validation_examples = small.validation_examples;
              run.test_examples = small.test_examples;
              run.steps = given("--steps") ? run.steps : small.steps;
              run.eval_every = given("--eval-every") ? run.eval_every : small.eval_every;
              run.ks = given("--k") ? run.ks : small.ks;
              run.encoders = given("--encoder") ? run.encoders : small.encoders;
              run.seeds = given("--seeds") ? run.seeds : 1;
            }
            experiments::run_subset_selection(run);
            return 0;
          }};
}

}  // namespace structgrad::cli
