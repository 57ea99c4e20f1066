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
  add_table_options(command, *config, *quick, "a smoke run of minutes: small data, 40 steps, T = 10, one seed",
                    "training graphs");
  command->add_option("--timesteps", config->timesteps, "frames per graph, T (10,20)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::Range(int64_t(2), int64_t(1000)));
  command->add_option("--vertices", config->vertices, "vertices per graph")->capture_default_str()->check(CLI::Range(3, 40));
  command->add_option("--hidden", config->hidden, "width of the encoder's and decoder's MLPs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--tau", config->tau, "temperature of the relaxations")->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--num-samples", config->num_samples, "samples per graph of T-REINFORCE+ (RELAX takes one)")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000));
  return {command, [config, quick, command] {
            auto own = [](experiments::GraphLayoutConfig& run, const experiments::GraphLayoutConfig& small,
                          const std::function<bool(const char*)>& given) {
              run.timesteps = given("--timesteps") ? run.timesteps : small.timesteps;
            };
            experiments::run_graph_layout(table_run(*config, *quick, command, &experiments::make_quick, own));
            return 0;
          }};
}

}  // namespace structgrad::cli
