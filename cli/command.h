// The pieces every `structgrad` subcommand shares. Each subcommand is one file (demo.cpp, ...)
// with one function that adds it to the app and returns how to run it once parsed; main.cpp
// lists them.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "structgrad/experiments/training.h"
#include "structgrad/structures/family.h"

namespace structgrad::cli {

struct Command {
  CLI::App* app;
  std::function<int()> run;  // the exit status
};

// The options of every training experiment, the same names everywhere: --steps, --eval-every,
// --batch-size, --learning-rate, --seed, --out (the results directory) and --quiet.
void add_training_options(CLI::App* command, experiments::TrainingConfig& config, std::string& output_directory);

// A structure family chosen by --family, with one option per parameter any family declares
// (--k for topk, --root for arborescence: structures/registry.h). `family()` is the chosen family
// with the parameters it takes; a parameter given for a family that does not take it is refused.
class FamilyChoice {
 public:
  explicit FamilyChoice(CLI::App* command);
  Family family() const;
  const std::string& name() const { return name_; }

 private:
  std::string name_ = "categorical";
  std::vector<std::pair<std::string, CLI::Option*>> parameter_options_;
  std::vector<std::pair<std::string, int64_t>> values_;
};

// Seeded random scores for `leading` instances of n items or vertices: (*leading,
// *family.event_shape(n)), symmetric for symmetric families (an undirected edge has one score).
at::Tensor random_theta(const Family& family, std::vector<int64_t> leading, int64_t n, at::Generator& generator);

Command demo_command(CLI::App& app);
Command igr_vae_command(CLI::App& app);
Command structured_vae_command(CLI::App& app);
Command semisupervised_command(CLI::App& app);
Command check_command(CLI::App& app);
Command sample_command(CLI::App& app);
Command subset_selection_command(CLI::App& app);
Command graph_layout_command(CLI::App& app);
Command listops_command(CLI::App& app);
Command parentheses_command(CLI::App& app);

}  // namespace structgrad::cli
