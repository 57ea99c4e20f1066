// The pieces every `structgrad` subcommand shares. Each subcommand is one file (demo.cpp, ...)
// with one function that adds it to the app and returns how to run it once parsed; main.cpp
// lists them.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
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

// The options every table experiment (subset-selection, graph-layout, listops, parentheses) adds
// beside add_training_options': --quick, --seeds, --train-examples, --only. Config has the fields
// of those experiments' configs (seeds, train_examples, only, ...).
template <class Config>
void add_table_options(CLI::App* command, Config& config, bool& quick, const std::string& quick_doc,
                       const std::string& examples_doc) {
  command->add_flag("--quick", quick, quick_doc);
  command->add_option("--seeds", config.seeds, "model initializations per row (mean ± std)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--train-examples", config.train_examples, examples_doc)
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--only", config.only, "run only these methods (labels as in summary.json, comma-separated)")
      ->delimiter(',');
}

// Whether a config has test examples (parentheses' has none).
template <class Config, class = void>
struct HasTestExamples : std::false_type {};
template <class Config>
struct HasTestExamples<Config, std::void_t<decltype(std::declval<Config&>().test_examples)>> : std::true_type {};

// A table experiment's own --quick settings: given(name) says whether the command line gave an option.
template <class Config>
using QuickOptions =
    std::function<void(Config& run, const Config& small, const std::function<bool(const char*)>& given)>;
// Keeps `more` out of template argument deduction, so that a lambda converts to QuickOptions.
template <class T>
struct NotDeduced {
  using type = T;
};

// The config a table experiment runs: `config` as parsed, and with --quick the settings of the
// experiment's make_quick where the command line gave none of its own (the data sizes, --steps,
// --eval-every, --seeds); `more` does the same for the experiment's own options.
template <class Config>
Config table_run(const Config& config, bool quick, CLI::App* command, void (*make_quick)(Config&),
                 const typename NotDeduced<QuickOptions<Config>>::type& more = {}) {
  Config run = config;
  if (!quick) return run;
  Config small = run;
  make_quick(small);
  const std::function<bool(const char*)> given = [command](const char* name) {
    return command->get_option(name)->count() > 0;
  };
  run.quick = true;
  run.train_examples = given("--train-examples") ? run.train_examples : small.train_examples;
  run.validation_examples = small.validation_examples;
  if constexpr (HasTestExamples<Config>::value) run.test_examples = small.test_examples;
  run.steps = given("--steps") ? run.steps : small.steps;
  run.eval_every = given("--eval-every") ? run.eval_every : small.eval_every;
  run.seeds = given("--seeds") ? run.seeds : small.seeds;
  if (more) more(run, small, given);
  return run;
}

// The config a subcommand with a --quick flag of its own runs (the VAE tables): `config` as
// parsed, and with --quick make_quick's value of every field named by unless_given whose option
// the command line did not give.
//   QuickConfig<Config> quick_config(*config, *quick, command, &make_quick);
//   quick_config.unless_given("--steps", &Config::steps).unless_given("--seeds", &Config::seeds);
//   run(quick_config.run);
template <class Config>
class QuickConfig {
 public:
  QuickConfig(const Config& config, bool quick, CLI::App* command, void (*make_quick)(Config&))
      : run(config), quick_(quick), command_(command), small_(config) {
    if (!quick) return;
    make_quick(small_);
    run.quick = true;
  }
  template <class T, class Owner>
  QuickConfig& unless_given(const char* option, T Owner::*field) {
    if (quick_ && command_->get_option(option)->count() == 0) run.*field = small_.*field;
    return *this;
  }
  Config run;

 private:
  bool quick_;
  CLI::App* command_;
  Config small_;
};

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
Command direct_vae_command(CLI::App& app);
Command bias_variance_command(CLI::App& app);
Command prior_fit_command(CLI::App& app);
Command structured_output_command(CLI::App& app);
Command jointvae_command(CLI::App& app);
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
