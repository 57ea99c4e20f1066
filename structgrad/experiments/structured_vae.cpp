#include "structgrad/experiments/structured_vae.h"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

#include "structgrad/experiments/discrete_vae.h"
#include "structgrad/structures/bernoulli.h"
#include "structgrad/structures/pairwise_binary.h"

namespace structgrad::experiments {
namespace {

bool is_structured(const std::string& encoder) { return encoder != "unstructured"; }

struct StructuredVaeImpl : torch::nn::Module {
  StructuredVaeImpl(int64_t pixels, int64_t hidden, int64_t latents, bool structured)
      : latents(latents),
        body(register_module("body", torch::nn::Sequential(torch::nn::Linear(pixels, hidden), torch::nn::ReLU()))),
        unaries(register_module("unaries", torch::nn::Linear(hidden, latents))),
        decoder(register_module("decoder", torch::nn::Sequential(torch::nn::Linear(2 * latents, hidden),
                                                                 torch::nn::ReLU(),
                                                                 torch::nn::Linear(hidden, pixels)))) {
    if (structured) pairs = register_module("pairs", torch::nn::Linear(hidden, latents * (latents - 1) / 2));
  }

  int64_t latents;
  torch::nn::Sequential body;
  torch::nn::Linear unaries;
  torch::nn::Linear pairs{nullptr};
  torch::nn::Sequential decoder;
};
TORCH_MODULE(StructuredVae);

struct Potentials {
  at::Tensor h, a;  // a undefined for the unstructured encoder
};

Potentials encode(StructuredVae& model, const std::string& encoder, const at::Tensor& x) {
  at::Tensor hidden = model->body->forward(x);
  Potentials p{model->unaries->forward(hidden), {}};
  if (!is_structured(encoder)) return p;
  const int64_t n = model->latents;
  at::Tensor weights = model->pairs->forward(hidden);  // (B, n(n-1)/2), the upper triangle row by row
  if (encoder == "supermodular") weights = at::softplus(weights);
  at::Tensor upper = at::triu_indices(n, n, 1, at::kLong);
  at::Tensor a = at::zeros({x.size(0), n * n}, weights.options())
                     .index_copy(1, upper[0] * n + upper[1], weights)
                     .reshape({x.size(0), n, n});
  p.a = a + a.transpose(-1, -2);
  return p;
}

// -log p(x | z) for latents z (S, B, n) and images x (B, pixels): (S, B).
at::Tensor structured_reconstruction_loss(StructuredVae& model, const at::Tensor& z, const at::Tensor& x) {
  at::Tensor logits = model->decoder->forward(at::cat({z, 1 - z}, -1));
  return at::binary_cross_entropy_with_logits(logits, x.expand_as(logits), {}, {}, at::Reduction::None).sum(-1);
}

// KL(prod_i Bernoulli(sigmoid(h_i)) || uniform on {0,1}^n): (B). Bit i is the two-category
// softmax of the logits (h_i, 0), so the categorical KL serves, summed over the bits.
at::Tensor unary_kl(const at::Tensor& h) {
  return kl_to_uniform(at::stack({h, at::zeros_like(h)}, -1)).sum(-1);
}

// The supermodular encoder keeps max-flow applicable by perturbing its unaries only.
bool pairwise_noise(const std::string& encoder) { return encoder == "general"; }

// The exact solver the test loss and the timings use when the run does not name one.
std::string exact_solver(const std::string& encoder) { return encoder == "supermodular" ? "max_flow" : "enumeration"; }

at::Tensor sample_latents(const std::string& encoder, const Potentials& p, int64_t samples, at::Generator& generator) {
  std::vector<int64_t> sizes{samples};
  sizes.insert(sizes.end(), p.h.sizes().begin(), p.h.sizes().end());
  at::Tensor h = p.h.unsqueeze(0).expand(sizes);
  if (!is_structured(encoder)) return bernoulli::sample(h, generator);
  sizes.push_back(p.h.size(-1));
  pairwise_binary::MapOptions options;
  options.solver = exact_solver(encoder);
  return pairwise_binary::sample(h, p.a.unsqueeze(0).expand(sizes), pairwise_noise(encoder), generator, options);
}

double structured_test_loss(StructuredVae& model, const StructuredRun& run, const StructuredVaeConfig& config,
                            const at::Tensor& images) {
  torch::NoGradGuard no_grad;
  // One fixed stream of test noise, so that the points of a curve differ by the model only.
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(config.seed + 1);
  double total = 0;
  for (int64_t start = 0; start < images.size(0); start += 1000) {
    at::Tensor x = images.slice(0, start, start + 1000);
    Potentials p = encode(model, run.encoder, x);
    at::Tensor z = sample_latents(run.encoder, p, config.eval_samples, generator);
    total += (structured_reconstruction_loss(model, z, x).mean(0) + unary_kl(p.h)).sum().item<double>();
  }
  return total / double(images.size(0));
}

std::vector<SolverTiming> time_solvers(StructuredVae& model, const StructuredRun& run, const at::Tensor& images,
                                       at::Generator& generator) {
  torch::NoGradGuard no_grad;
  Potentials p = encode(model, run.encoder, images);
  pairwise_binary::Perturbed perturbed = pairwise_binary::perturb(p.h, p.a, pairwise_noise(run.encoder), generator);
  std::vector<std::string> solvers{"enumeration", "integer_program"};
  if (run.encoder == "supermodular") solvers.insert(solvers.begin(), "max_flow");
  std::vector<SolverTiming> timings;
  at::Tensor first;
  for (const auto& solver : solvers) {
    pairwise_binary::MapOptions options;
    options.solver = solver;
    const auto start = std::chrono::steady_clock::now();
    at::Tensor z = pairwise_binary::map(perturbed.h, perturbed.a, options);
    timings.push_back({run.label, solver, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
    // Every solver is exact: they must agree on the maximum score (ties aside).
    at::Tensor score = pairwise_binary::score(perturbed.h, perturbed.a, z);
    if (!first.defined()) first = score;
    TORCH_CHECK(at::allclose(score, first, 1e-6, 1e-6), "structured-vae: solver ", solver,
                " found a different maximum than ", solvers.front());
  }
  return timings;
}

void check_run(const StructuredRun& run, const StructuredVaeConfig& config) {
  TORCH_CHECK_VALUE(run.encoder == "unstructured" || run.encoder == "supermodular" || run.encoder == "general",
                    "structured-vae: encoder must be \"unstructured\", \"supermodular\" or \"general\", got \"",
                    run.encoder, "\"");
  TORCH_CHECK_VALUE(!is_structured(run.encoder) || run.estimator == "direct", "structured-vae: the ", run.encoder,
                    " encoder is trained by direct optimization only, got estimator \"", run.estimator, "\"");
  TORCH_CHECK_VALUE(config.latents >= 2 && config.latents <= 16, "structured-vae: latents must be in [2, 16], got ",
                    config.latents);
  TORCH_CHECK_VALUE(config.eval_samples >= 1, "structured-vae: eval_samples must be positive, got ",
                    config.eval_samples);
  TORCH_CHECK_VALUE(config.general_solver == "enumeration" || config.general_solver == "integer_program",
                    "structured-vae: general_solver must be \"enumeration\" or \"integer_program\", got \"",
                    config.general_solver, "\"");
}

}  // namespace

estimators::EpsSchedule default_eps_schedule() {
  estimators::EpsSchedule towards_lower_loss;
  towards_lower_loss.start = -0.01;
  towards_lower_loss.minimum = 0.001;
  return towards_lower_loss;
}

std::vector<StructuredRun> structured_vae_runs(const estimators::EpsSchedule& towards_lower_loss) {
  estimators::Options direct;
  direct.direct.argmax = "flip";
  estimators::Options relaxed;
  relaxed.relax.tau = 0.5;
  estimators::Options arm;
  arm.num_samples = 1;
  estimators::Options reinforce;
  reinforce.num_samples = 2;
  estimators::Options rebar = relaxed;  // eta 1, tau 0.5, one sample
  rebar.num_samples = 1;
  return {{"direct", "unstructured", "direct", direct, towards_lower_loss},
          {"gumbel_softmax", "unstructured", "relaxed", relaxed, {}},
          {"arm", "unstructured", "arm", arm, {}},
          {"reinforce_loo2", "unstructured", "reinforce", reinforce, {}},
          {"rebar", "unstructured", "rebar", rebar, {}},
          {"relax", "unstructured", "relax", rebar, {}},
          {"direct_supermodular", "supermodular", "direct", direct, towards_lower_loss},
          {"direct_general", "general", "direct", direct, towards_lower_loss}};
}

StructuredVaeResult train_structured_vae(const StructuredRun& run, const ImageDataset& data,
                                         const StructuredVaeConfig& config) {
  check_run(run, config);
  torch::manual_seed(config.seed);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  StructuredVae model(data.train_images.size(1), config.hidden, config.latents, is_structured(run.encoder));
  if (run.encoder == "supermodular") {
    // softplus(0) = 0.69 on each of the n(n-1)/2 pairs would outweigh the unaries and pin z* to
    // all ones from the first step (the latent then carries nothing, and training stalls there):
    // start the interactions near 0 (softplus(-4) = 0.018), from the unstructured encoder.
    torch::NoGradGuard no_grad;
    model->pairs->bias.fill_(-4.0);
  }
  estimators::Options options = run.options;
  estimators::PairwiseDirectOptions pairwise;
  pairwise.pairwise_noise = pairwise_noise(run.encoder);
  pairwise.map.solver = run.encoder == "general" ? config.general_solver : exact_solver(run.encoder);
  // RELAX's learned control variate (Grathwohl et al. 2018): a network of the perturbation theta + L,
  // trained by the estimator's variance objective, which reaches no other parameter. (REBAR's is
  // the relaxed loss, fixed.)
  std::vector<at::Tensor> parameters = model->parameters();
  torch::nn::Sequential control = nullptr;
  if (run.estimator == "relax") {
    control = torch::nn::Sequential(torch::nn::Linear(config.latents, 100), torch::nn::ReLU(),
                                    torch::nn::Linear(100, 1));
    for (const at::Tensor& parameter : control->parameters()) parameters.push_back(parameter);
  }
  int64_t step = 0;
  auto objective = [&](const at::Tensor& x) {
    if (run.eps_schedule) options.direct.eps = run.eps_schedule->value(step++);
    Potentials p = encode(model, run.encoder, x);
    auto f = [&](const at::Tensor& z) { return structured_reconstruction_loss(model, z, x); };
    auto c = [&](const at::Tensor& perturbed) { return control->forward(perturbed).squeeze(-1); };
    at::Tensor surrogate =
        is_structured(run.encoder)
            ? estimators::direct_pairwise_binary(p.h, p.a, f, options.direct, pairwise, generator).surrogate
        : control ? estimators::relax(bernoulli::family(), p.h, f, c, options.relax, options.num_samples, generator)
                        .surrogate
                  : estimators::estimate(run.estimator, bernoulli::family(), p.h, f, options, generator).surrogate;
    return (surrogate + unary_kl(p.h).sum()) / double(x.size(0));
  };
  StructuredVaeResult result;
  result.encoder = run.encoder;
  result.training = train(
      run.label, data.train_images, data.test_images, config, parameters, objective,
      [&](const at::Tensor& images) { return structured_test_loss(model, run, config, images); }, generator);
  if (is_structured(run.encoder))
    result.timings = time_solvers(model, run, data.test_images.slice(0, 0, config.batch_size), generator);
  return result;
}

std::vector<StructuredVaeResult> run_structured_vae(const StructuredVaeConfig& config) {
  std::fprintf(stderr, "loading Fashion-MNIST from %s\n", config.data_directory.c_str());
  const ImageDataset data = load_fashion_mnist(config.data_directory, /*binarize=*/true);
  std::vector<StructuredVaeResult> results;
  for (const auto& run : structured_vae_runs(config.eps))
    if (selected(config.only, run.label)) results.push_back(train_structured_vae(run, data, config));
  TORCH_CHECK_VALUE(!results.empty(), "structured-vae: no run selected");

  std::vector<TrainingResult> trainings;
  nlohmann::json timings = nlohmann::json::array();
  for (const auto& r : results) {
    trainings.push_back(r.training);
    for (const auto& t : r.timings)
      timings.push_back({{"label", t.label}, {"solver", t.solver}, {"seconds_per_batch", t.seconds_per_batch}});
  }
  const nlohmann::json settings = {{"experiment", "structured_vae_fashion_mnist"},
                                   {"latents", config.latents},
                                   {"eval_samples", config.eval_samples},
                                   {"general_solver", config.general_solver},
                                   {"eps_start", config.eps.start},
                                   {"eps_minimum", config.eps.minimum},
                                   {"solver_timings", timings}};
  const bool plotted = write_results(trainings, config, config.output_directory, settings.dump(),
                                     "Structured VAE (n=15 binary latents) on Fashion-MNIST: test loss");
  std::printf("\nStructured VAE, binarized Fashion-MNIST, n=%lld binary latents, %lld steps of batch %lld\n",
              static_cast<long long>(config.latents), static_cast<long long>(config.steps),
              static_cast<long long>(config.batch_size));
  std::printf("%-22s %-13s %12s %12s\n", "run", "encoder", "test loss", "train s");
  for (const auto& r : results)
    std::printf("%-22s %-13s %12.2f %12.1f\n", r.training.label.c_str(), r.encoder.c_str(), r.training.final_test_loss,
                r.training.train_seconds);
  if (!timings.empty()) {
    std::printf("\nMAP of one batch of %lld trained encoder outputs (Fig. 3 right):\n",
                static_cast<long long>(config.batch_size));
    for (const auto& r : results)
      for (const auto& t : r.timings)
        std::printf("%-22s %-16s %10.4f s\n", t.label.c_str(), t.solver.c_str(), t.seconds_per_batch);
  }
  std::printf("\nresults: %s/{curves.csv,summary.csv,summary.json%s}\n", config.output_directory.c_str(),
              plotted ? ",test_loss.png" : "");
  return results;
}

}  // namespace structgrad::experiments
