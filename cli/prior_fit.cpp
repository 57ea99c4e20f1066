// structgrad prior-fit: seed 004 Fig. 2 and App. E, discrete distributions fitted by Eq. 20.
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/prior_fit.h"

namespace structgrad::cli {

Command prior_fit_command(CLI::App& app) {
  auto config = std::make_shared<experiments::PriorFitConfig>();
  auto quick = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "prior-fit", "seed 004 Fig. 2 and App. E: IGR-SB, IGR and Gumbel-softmax fitted to Poisson(50), "
                   "Binomial(12, 0.3), a 10-category pmf and NegBin(50, 0.6)");
  command->add_flag("--quick", *quick, "a smoke run: 100 steps, one seed");
  command->add_option("--target", config->targets, "poisson, binomial, discrete, negative_binomial")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::IsMember({"poisson", "binomial", "discrete", "negative_binomial"}));
  command->add_option("--steps", config->steps, "Adam steps per fit")->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--seeds", config->seeds, "fits per row (mean ± std)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--seed", config->seed, "seed of the first fit")->capture_default_str();
  command->add_option("--only", config->only, "run only these methods (igr_sb, igr, gumbel_softmax_k40, ...)")
      ->delimiter(',');
  command->add_option("--out,--output", config->output_directory, "results directory")->capture_default_str();
  return {command, [config, quick, command] {
            using Config = experiments::PriorFitConfig;
            QuickConfig<Config> quick_config(*config, *quick, command, &experiments::make_quick);
            quick_config.unless_given("--steps", &Config::steps).unless_given("--seeds", &Config::seeds);
            const Config& run = quick_config.run;
            experiments::run_prior_fit(run);
            return 0;
          }};
}

}  // namespace structgrad::cli
