#include <set>

#include "cli/command.h"
#include "structgrad/structures/registry.h"

namespace structgrad::cli {

void add_training_options(CLI::App* command, experiments::TrainingConfig& config, std::string& output_directory) {
  command->add_option("--steps", config.steps, "training steps per run")->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--eval-every", config.eval_every, "steps between test evaluations")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--batch-size", config.batch_size, "images per step")->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--learning-rate", config.learning_rate, "Adam's step size")->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--seed", config.seed, "seed of the weights, the batches and the noise")->capture_default_str();
  command->add_option("--out,--output", output_directory, "results directory")->capture_default_str();
  command->add_flag_callback("--quiet", [&config] { config.progress = false; }, "no progress bar");
}

FamilyChoice::FamilyChoice(CLI::App* command) {
  std::string names;
  for (const std::string& name : family_names()) names += (names.empty() ? "" : ", ") + name;
  command->add_option("--family", name_, "structure family: " + names)->capture_default_str();
  std::set<std::string> added;
  for (const FamilyEntry& entry : family_registry())
    for (const FamilyParameter& parameter : entry.parameters) {
      if (!added.insert(parameter.name).second) continue;
      values_.emplace_back(parameter.name, 0);
    }
  // values_ is complete before options bind to its elements: no reallocation afterwards.
  for (auto& [parameter_name, value] : values_) {
    std::string doc;
    for (const FamilyEntry& entry : family_registry())
      for (const FamilyParameter& parameter : entry.parameters)
        if (parameter.name == parameter_name) doc += (doc.empty() ? "" : "; ") + entry.name + ": " + parameter.doc;
    parameter_options_.emplace_back(parameter_name, command->add_option("--" + parameter_name, value, doc));
  }
}

Family FamilyChoice::family() const {
  FamilyParams params;
  for (size_t i = 0; i < values_.size(); ++i)
    if (parameter_options_[i].second->count() > 0) params[values_[i].first] = values_[i].second;
  return structgrad::family(name_, params);
}

at::Tensor random_theta(const Family& family, std::vector<int64_t> leading, int64_t n, at::Generator& generator) {
  for (int64_t size : family.event_shape(n)) leading.push_back(size);
  at::Tensor theta = at::randn(leading, generator, at::TensorOptions().dtype(at::kDouble));
  if (family.symmetric) theta = (theta + theta.transpose(-1, -2)) / 2;
  return theta;
}

}  // namespace structgrad::cli
