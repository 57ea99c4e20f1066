// structgrad graph-layout: a latent spanning tree from spring-layout frames (seed 000's NRI table,
// seed 002 Table 2).
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/graph_layout.h"

namespace structgrad::cli {

Command graph_layout_command(CLI::App& app) {
  auto config = std::make_shared<experiments::GraphLayoutConfig>();
  config->steps = 1500;
  config->batch_size = 64;
  config->eval_every = 100;
  auto quick = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "graph-layout", "infer the tree behind spring-layout frames (NRI): spanning_tree SST, T-REINFORCE+ and RELAX, "
                      "independent directed edges, E.F. top-(n-1) (seed 000 NRI table, seed 002 Table 2)");
  add_training_options(command, *config, config->output_directory);
  command->add_flag("--quick", *quick, "a smoke run of minutes: small data, 40 steps, T = 10, one seed");
  command->add_option("--seeds", config->seeds, "model initializations per row (mean ± std)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--timesteps", config->timesteps, "frames per graph, T (10,20)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::Range(int64_t(2), int64_t(1000)));
  command->add_option("--vertices", config->vertices, "vertices per graph")->capture_default_str()->check(CLI::Range(3, 40));
  command->add_option("--train-examples", config->train_examples, "training graphs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--hidden", config->hidden, "width of the encoder's and decoder's MLPs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--tau", config->tau, "temperature of the relaxations")->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--num-samples", config->num_samples, "samples per graph of T-REINFORCE+ (RELAX takes one)")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000));
  command->add_option("--only", config->only, "run only these methods (labels as in summary.json, comma-separated)")
      ->delimiter(',');
  return {command, [config, quick, command] {
            experiments::GraphLayoutConfig run = *config;
            if (*quick) {
              // --quick's settings where the command line does not give its own.
              experiments::GraphLayoutConfig small = run;
              experiments::make_quick(small);
              auto given = [&](const char* name) { return command->get_option(name)->count() > 0; };
              run.quick = true;
              run.train_examples = given("--train-examples") ? run.train_examples : small.train_examples;
              run.validation_examples = small.validation_examples;
              run.test_examples = small.test_examples;
              run.steps = given("--steps") ? run.steps : small.steps;
              run.eval_every = given("--eval-every") ? run.eval_every : small.eval_every;
              run.timesteps = given("--timesteps") ? run.timesteps : small.timesteps;
              run.seeds = given("--seeds") ? run.seeds : small.seeds;
            }
            experiments::run_graph_layout(run);
            return 0;
          }};
}

}  // namespace structgrad::cli
