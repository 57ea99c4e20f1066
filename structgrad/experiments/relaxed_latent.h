// The relaxed categorical latents of seed 004's experiments (igr-vae, jointvae,
// structured-output): V variables of K categories drawn by the Gumbel-softmax in log space
// (ExpConcrete) or by IGR-I, IGR-Planar or IGR-SB, with the KL to their prior.
//
//   gs          logits (K per variable); prior ExpConcrete(0, tau); the KL by one Monte Carlo
//               draw in log space (seed 004 Eq. 14)
//   igr         Gaussian loc and log-scale (K - 1 each); prior the IGR whose induced pmf is
//               uniform (fitted by Eq. 20, distributions/prior_fit.h); the KL in closed form
//   igr_planar  igr through planar layers shared by posterior and prior (learned with the model),
//               so the KL is still the Gaussian one
//   igr_sb      stick-breaking up to K categories (K - 1 sticks), truncated at rho = 0.99 and
//               zero-padded to K; the untruncated Gaussian KL, an upper bound (igr.h)
// delta = 0.1 throughout, as in the seed.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace structgrad::experiments {

// Linear layers of the given widths with ReLU between them (none after the last): seed 004's
// dense encoders and decoders (App. D).
torch::nn::Sequential dense_network(const std::vector<int64_t>& widths);

struct LatentRelaxation {
  std::string relaxation;  // "gs", "igr", "igr_planar" or "igr_sb"
  double temperature;
  int64_t planar_layers = 0;  // igr_planar only
};

// Checks the relaxation's name, temperature and planar layers; `where` prefixes the errors.
void check_relaxation(const char* where, const LatentRelaxation& relaxation);

// Encoder outputs per variable: K logits for gs, 2 (K - 1) Gaussian parameters for the IGRs.
int64_t parameters_per_variable(const LatentRelaxation& relaxation, int64_t categories);

// The IGR prior's Gaussian (K - 1); undefined for gs.
struct LatentPrior {
  at::Tensor loc, scale;
  double total_variation = 0;  // of its induced pmf from uniform
};
LatentPrior fit_uniform_prior(const LatentRelaxation& relaxation, int64_t categories, int64_t steps, uint64_t seed);

// The planar layers of igr_planar (u and w (layers, K - 1), b (layers)); undefined otherwise.
struct PlanarLayers {
  at::Tensor u, w, b;
};

// Seed 004 Fig. 4: the share of the gradient's entries from the sample back to the encoder
// outputs (App. A) that are exactly 0, counted over the draws it is passed to.
struct VanishingGradients {
  double zero = 0, total = 0;
  double share() const { return total > 0 ? zero / total : 0; }
};

struct LatentDraw {
  at::Tensor z;   // (B, V * K): the decoder's input
  at::Tensor kl;  // (B): KL(q || prior) summed over the variables; undefined for an IGR without prior
};

// Low-temperature relaxations feed subnormal floats to the decoder, which slow x86 matrix products
// by orders of magnitude; flushing them to zero changes no reported digit. Holds the flush on
// while it lives, restoring torch's default (off) after.
struct FlushDenormals {
  FlushDenormals() { at::globalContext().setFlushDenormal(true); }
  ~FlushDenormals() { at::globalContext().setFlushDenormal(false); }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;
};

// A reparameterized draw for encoder outputs h (B, V, parameters_per_variable). An IGR prior
// left undefined (a model with no KL term) leaves the draw's kl undefined.
LatentDraw draw_relaxed_latent(const LatentRelaxation& relaxation, const at::Tensor& h, int64_t categories,
                               const LatentPrior& prior, const PlanarLayers& planar, at::Generator& generator,
                               VanishingGradients* vanishing = nullptr);

}  // namespace structgrad::experiments
