// structgrad parentheses: non-monotonic generation of balanced parentheses along a latent binary
// tree (seed 002 §5.4, Fig. 2).
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/parentheses.h"

namespace structgrad::cli {

Command parentheses_command(CLI::App& app) {
  auto config = std::make_shared<experiments::ParenthesesConfig>();
  config->steps = 2000;
  config->batch_size = 64;
  config->eval_every = 250;
  auto quick = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "parentheses", "generate balanced parentheses by insertion along a binary tree: left-to-right, smart and "
                     "semi-supervised learned orders trained by RELAX (seed 002 §5.4, Fig. 2)");
  add_training_options(command, *config, config->output_directory);
  command->add_flag("--quick", *quick, "a smoke run of minutes: small data, 40 steps, 10 and 20 types, one seed");
  command->add_option("--seeds", config->seeds, "model initializations per row (mean ± std)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--types", config->types, "numbers of parenthesis types (10,20,30,40,50)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  command->add_option("--max-pairs", config->max_pairs, "pairs per sequence at most")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(1), int64_t(100)));
  command->add_option("--train-examples", config->train_examples, "training sequences")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--generated", config->generated, "sequences generated for the metrics")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--hidden", config->hidden, "width of the LSTMs (even)")->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--only", config->only, "run only these methods (left_to_right, smart, ss_relax)")->delimiter(',');
  return {command, [config, quick, command] {
            experiments::ParenthesesConfig run = *config;
            if (*quick) {
              // --quick's settings where the command line does not give its own.
              experiments::ParenthesesConfig small = run;
              experiments::make_quick(small);
              auto given = [&](const char* name) { return command->get_option(name)->count() > 0; };
              run.quick = true;
              run.train_examples = given("--train-examples") ? run.train_examples : small.train_examples;
              run.validation_examples = small.validation_examples;
              run.generated = given("--generated") ? run.generated : small.generated;
              run.steps = given("--steps") ? run.steps : small.steps;
              run.eval_every = given("--eval-every") ? run.eval_every : small.eval_every;
              run.types = given("--types") ? run.types : small.types;
              run.seeds = given("--seeds") ? run.seeds : small.seeds;
            }
            experiments::run_parentheses(run);
            return 0;
          }};
}

}  // namespace structgrad::cli
