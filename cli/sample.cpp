// structgrad sample: samples of a seeded random theta, as JSON: perturb-and-MAP (--law
// perturb_and_map) or the exact Gibbs distribution (--law gibbs), with the Gibbs entropy and each
// sample's Gibbs log-probability for the latter.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <memory>
#include <string>

#include "cli/command.h"

namespace structgrad::cli {
namespace {

nlohmann::json tensor_json(const at::Tensor& t) {
  at::Tensor flat = t.detach().to(at::kDouble).contiguous().flatten();
  return {{"shape", t.sizes().vec()},
          {"values", std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel())}};
}

struct SampleSettings {
  explicit SampleSettings(CLI::App* command) : family(command) {}
  FamilyChoice family;
  int64_t n = 5, batch = 3;
  uint64_t seed = 0;
  std::string law = "perturb_and_map";
};

}  // namespace

Command sample_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand("sample", "draw samples for a seeded random theta (JSON)");
  auto settings = std::make_shared<SampleSettings>(command);
  command->add_option("--n", settings->n)->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--batch", settings->batch)->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--seed", settings->seed)->capture_default_str();
  command->add_option("--law", settings->law, "perturb_and_map: map(theta + G); gibbs: p(x) ∝ exp(<theta, x>)")
      ->capture_default_str()
      ->check(CLI::IsMember({"perturb_and_map", "gibbs"}));
  return {command, [settings] {
            const Family family = settings->family.family();
            at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(settings->seed);
            at::Tensor theta = random_theta(family, {settings->batch}, settings->n, generator);
            nlohmann::json out{{"family", family.name}, {"seed", settings->seed}, {"law", settings->law},
                               {"theta", tensor_json(theta)}};
            if (settings->law == "gibbs") {
              if (!family.has_gibbs()) {
                fmt::print(stderr, "structgrad sample: the family {} has no Gibbs sampler (--law gibbs)\n", family.name);
                return 2;
              }
              at::Tensor x = family.gibbs_sample(theta, generator);
              out["sample"] = tensor_json(x);
              out["log_prob"] = tensor_json(family.gibbs_log_prob(theta, x));
              out["entropy"] = tensor_json(family.entropy(theta));
            } else {
              out["sample"] = tensor_json(family.sample(theta, generator));
            }
            fmt::print("{}\n", out.dump());
            return 0;
          }};
}

}  // namespace structgrad::cli
