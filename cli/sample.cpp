// structgrad sample: perturb-and-MAP samples of a seeded random theta, as JSON.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <memory>

#include "cli/command.h"

namespace structgrad::cli {
namespace {

nlohmann::json tensor_json(const at::Tensor& t) {
  at::Tensor flat = t.detach().to(at::kDouble).contiguous().flatten();
  return {{"shape", t.sizes().vec()},
          {"values", std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel())}};
}

struct Settings {
  explicit Settings(CLI::App* command) : family(command) {}
  FamilyChoice family;
  int64_t n = 5, batch = 3;
  uint64_t seed = 0;
};

}  // namespace

Command sample_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand("sample", "draw perturb-and-MAP samples for a seeded random theta (JSON)");
  auto settings = std::make_shared<Settings>(command);
  command->add_option("--n", settings->n)->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--batch", settings->batch)->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--seed", settings->seed)->capture_default_str();
  return {command, [settings] {
            const Family family = settings->family.family();
            at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(settings->seed);
            at::Tensor theta = random_theta(family, {settings->batch}, settings->n, generator);
            at::Tensor x = family.sample(theta, generator);
            fmt::print("{}\n", nlohmann::json{{"family", family.name},
                                              {"seed", settings->seed},
                                              {"theta", tensor_json(theta)},
                                              {"sample", tensor_json(x)}}
                                   .dump());
            return 0;
          }};
}

}  // namespace structgrad::cli
