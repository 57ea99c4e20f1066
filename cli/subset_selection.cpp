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
  add_table_options(command, *config, *quick, "a smoke run of minutes: small data, 150 steps, k = 5, the simple encoder",
                    "training reviews");
  command->add_option("--k", config->ks, "subset sizes (5,10,15)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  command->add_option("--encoder", config->encoders, "simple (one convolution) and/or complex (three)")
      ->capture_default_str()
      ->delimiter(',');
  command->add_option("--tau", config->tau, "temperature of the relaxations")->capture_default_str();
  command->add_option("--num-samples", config->num_samples, "samples per review of the score-function estimators")
      ->capture_default_str();
  command->add_option("--direct-eps", config->direct_eps, "the loss augmentation of topk_direct")->capture_default_str();
  return {command, [config, quick, command] {
            auto own = [](experiments::SubsetSelectionConfig& run, const experiments::SubsetSelectionConfig& small,
                          const std::function<bool(const char*)>& given) {
              run.ks = given("--k") ? run.ks : small.ks;
              run.encoders = given("--encoder") ? run.encoders : small.encoders;
            };
            experiments::run_subset_selection(table_run(*config, *quick, command, &experiments::make_quick, own));
            return 0;
          }};
}

}  // namespace structgrad::cli
