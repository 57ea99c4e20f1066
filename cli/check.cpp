// structgrad check: an estimator's mean and spread against the exact gradient by enumeration.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <memory>

#include "cli/command.h"
#include "structgrad/estimators/check.h"

namespace structgrad::cli {
namespace {

std::vector<double> to_vector(const at::Tensor& t) {
  at::Tensor flat = t.detach().to(at::kDouble).contiguous().flatten();
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

struct CheckSettings {
  explicit CheckSettings(CLI::App* command) : family(command) {}
  FamilyChoice family;
  std::string estimator = "reinforce";
  int64_t n = 5, draws = estimators::kCheckDraws;
  uint64_t seed = 0;
  bool json = false;
  estimators::Options options;
};

void add_estimator_options(CLI::App* command, estimators::Options& options) {
  command->add_option("--tau", options.relax.tau, "temperature of relaxed estimators")->capture_default_str();
  command->add_flag("--hard", options.relax.hard, "straight-through forward for relaxed estimators");
  command->add_option("--regularizer", options.relax.regularizer, "regularizer of relaxed estimators");
  command->add_option("--num-samples", options.num_samples, "samples per instance (score-function estimators)")
      ->capture_default_str();
  command->add_option("--num-conditional", options.num_conditional, "perturbations given the trace (gumbel_rao)")
      ->capture_default_str();
  command->add_option("--eps", options.direct.eps, "loss-augmentation of the direct estimator (non-zero)")
      ->capture_default_str();
  command->add_option("--argmax", options.direct.argmax, "direct: enumerate, linear or flip")->capture_default_str();
  command->add_option("--eta", options.eta, "rebar: the control variate's scale")->capture_default_str();
}

int run(const CheckSettings& s) {
  const Family family = s.family.family();
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(s.seed);
  at::Tensor theta = random_theta(family, {}, s.n, generator);
  // The loss's coefficients have the structure's shape, which differs from theta's for rankings
  // and binary trees.
  const std::vector<int64_t> structure_shape = family.map(theta).sizes().vec();
  at::Tensor a = at::randn(structure_shape, generator, at::kDouble);
  at::Tensor b = at::randn(structure_shape, generator, at::kDouble);
  auto report = estimators::check_estimator(s.estimator, family, theta, estimators::quadratic_loss(a, b), s.options,
                                            s.draws, s.seed + 1);
  if (s.json) {
    nlohmann::json out = {{"estimator", report.estimator},      {"family", report.family},
                          {"draws", report.draws},              {"exact_gradient", to_vector(report.exact_gradient)},
                          {"mean", to_vector(report.mean)},     {"standard_error", to_vector(report.standard_error)},
                          {"bias", to_vector(report.bias)},     {"max_abs_z", report.max_abs_z},
                          {"critical_z", report.critical_z},    {"relative_bias", report.relative_bias},
                          {"variance", report.variance},        {"bias_detected", report.bias_detected},
                          {"claims_unbiased", report.claims_unbiased}, {"passed", report.passed},
                          {"verdict", report.verdict}};
    fmt::print("{}\n", out.dump(2));
  } else {
    fmt::print("check: {} on {} (n={}), f(x) = <a,x> + <b,x>^2, {} draws, seed {}\n", s.estimator, family.name, s.n,
               s.draws, s.seed);
    fmt::print("{:>4} {:>12} {:>12} {:>12} {:>8}\n", "i", "exact", "estimate", "std err", "z");
    auto exact = to_vector(report.exact_gradient), mean = to_vector(report.mean),
         se = to_vector(report.standard_error);
    for (size_t i = 0; i < exact.size(); ++i)
      fmt::print("{:>4} {:>12.5f} {:>12.5f} {:>12.5f} {:>8.2f}\n", i, exact[i], mean[i], se[i],
                 se[i] > 0 ? (mean[i] - exact[i]) / se[i] : 0.0);
    fmt::print("variance of one draw (trace): {:.5g}\n", report.variance);
    fmt::print("verdict: {}\n", report.verdict);
  }
  return report.passed ? 0 : 1;
}

}  // namespace

Command check_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand("check", "compare an estimator with the exact gradient by enumeration");
  auto settings = std::make_shared<CheckSettings>(command);
  command->add_option("--estimator", settings->estimator, "estimator name")->required();
  command->add_option("--n", settings->n, "instance size")->capture_default_str()->check(CLI::Range(1, 12));
  command->add_option("--draws", settings->draws, "independent draws of the estimator")
      ->capture_default_str()
      ->check(CLI::Range(2, 10000000));
  command->add_option("--seed", settings->seed)->capture_default_str();
  command->add_flag("--json", settings->json, "machine-readable output");
  add_estimator_options(command, settings->options);
  return {command, [settings] { return run(*settings); }};
}

}  // namespace structgrad::cli
