// The semi-supervised VAE's training: labelled subsets, the two objectives, the test metrics. The
// model is in semisupervised_model.cpp, the grid of runs and its output in semisupervised_grid.cpp.
#include "structgrad/experiments/semisupervised.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

#include "structgrad/core/check.h"
#include "structgrad/estimators/estimators.h"
#include "structgrad/experiments/discrete_vae.h"
#include "structgrad/structures/categorical.h"

namespace structgrad::experiments {
namespace {

constexpr const char* kName = "semisupervised";

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
  const Family family = categorical::family();
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

SemisupervisedResult train_semisupervised(const SemisupervisedRun& run, const ImageDataset& data,
                                          const SemisupervisedConfig& config) {
  check_semisupervised_run(run);
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
  const Family family = categorical::family();
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

}  // namespace structgrad::experiments
