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
  add_table_options(command, *config, *quick, "a smoke run of minutes: small data, 40 steps, 10 and 20 types, one seed",
                    "training sequences");
  command->add_option("--types", config->types, "numbers of parenthesis types (10,20,30,40,50)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  command->add_option("--max-pairs", config->max_pairs, "pairs per sequence at most")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(1), int64_t(100)));
  command->add_option("--generated", config->generated, "sequences generated for the metrics")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--hidden", config->hidden, "width of the LSTMs (even)")->capture_default_str()->check(CLI::PositiveNumber);
  return {command, [config, quick, command] {
            auto own = [](experiments::ParenthesesConfig& run, const experiments::ParenthesesConfig& small,
                          const std::function<bool(const char*)>& given) {
              run.generated = given("--generated") ? run.generated : small.generated;
              run.types = given("--types") ? run.types : small.types;
            };
            experiments::run_parentheses(table_run(*config, *quick, command, &experiments::make_quick, own));
            return 0;
          }};
}

}  // namespace structgrad::cli
