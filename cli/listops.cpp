// structgrad listops: unsupervised parsing of ListOps with a latent arborescence (seed 002 Table 3,
// seed 000's arborescence table).
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/listops.h"

namespace structgrad::cli {

Command listops_command(CLI::App& app) {
  auto config = std::make_shared<experiments::ListOpsConfig>();
  config->steps = 2000;
  config->batch_size = 50;
  config->eval_every = 250;
  auto quick = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "listops", "parse ListOps expressions through a latent arborescence: SST under Gumbel, Gaussian and negative "
                 "exponential perturbations, E-REINFORCE+, T-REINFORCE+, RELAX, the true parse (seed 002 Table 3, "
                 "seed 000 arborescence table)");
  add_training_options(command, *config, config->output_directory);
  add_table_options(command, *config, *quick, "a smoke run of minutes: small data, 60 steps, one seed",
                    "training expressions");
  command->add_option("--max-length", config->data.max_length, "tokens per expression at most")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(4), int64_t(200)));
  command->add_option("--max-depth", config->data.max_depth, "nested operators at most")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--min-depth", config->data.min_depth, "nested operators at least")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--hidden", config->hidden, "width of the LSTMs and the GNN")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--message-passes", config->message_passes, "rounds of messages of the GNN classifier")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--tau", config->tau, "temperature of the relaxations")->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--num-samples", config->num_samples, "samples per expression of E- and T-REINFORCE+")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000));
  return {command, [config, quick, command] {
            experiments::run_listops(table_run(*config, *quick, command, &experiments::make_quick));
            return 0;
          }};
}

}  // namespace structgrad::cli
