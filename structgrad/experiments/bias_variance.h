// `structgrad bias-variance`: seed 003 Fig. 1, the bias and the standard deviation of the direct
// gradient estimate against eps, beside the Gumbel-softmax estimate against its temperature tau,
// at parameters trained with the exact gradient (so that both have the same unbiased reference).
//
// The discrete VAE of discrete_vae.h (K categories, binarized Fashion-MNIST) is trained with the
// exact gradient; then, on a batch of test images, `draws` independent estimates of the gradient
// of the batch's expected reconstruction loss are drawn for each eps and each tau, and compared
// with the exact gradient by enumeration:
//   bias = the root mean square over coordinates of (mean of the draws - exact gradient), less
//          the Monte Carlo noise of the mean: sqrt(mean(max(0, (mean - exact)^2 - var / draws))),
//          so that an unbiased estimator with a large variance does not show as biased;
//   std  = the mean over coordinates of the draws' standard deviation;
//   scale = the mean over coordinates of |exact gradient|, what bias and std compare with (a
//          trained encoder is confident, and its gradients are small).
// The coordinates are those of the gradient with respect to the encoder's logits (images x K):
// the encoder's parameter gradient is a fixed linear map of it, so the ordering over eps and tau
// is the same, at a fraction of the cost (the seed does not say which coordinates it averaged).
// The KL term's gradient is exact for every estimator and is left out.
//
// eps is in the seed's units (its BCE is a mean over pixels; ours is a sum, so the estimator runs
// at -eps / pixels: towards the lower loss, as seed003_eps_schedule).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "structgrad/experiments/discrete_vae.h"

namespace structgrad::experiments {

struct BiasVarianceConfig : DiscreteVaeConfig {
  BiasVarianceConfig() {
    steps = 6000;
    eval_every = 1000;
  }
  int64_t draws = 10000;  // gradient estimates per eps and per tau
  int64_t images = 10;    // the test batch the gradients are of
  std::vector<double> eps = {0.03, 0.1, 0.3, 1, 3, 10};
  std::vector<double> tau = {0.1, 0.2, 0.5, 1, 2, 5};
  std::string data_directory = default_fashion_mnist_directory();
  std::string output_directory = "results/bias_variance";
  bool quick = false;
};

// A smoke run: 300 training steps, 200 draws, three eps and three tau.
void make_quick(BiasVarianceConfig& config);

struct GradientMoments {
  double bias = 0, std = 0, scale = 0;
};

// Bias and standard deviation (as above) of `draws` estimates of d/d theta of
// sum_b E f_b(z_b) for logits theta (B, K), drawn `chunk` at a time: each draw is one row of a
// (chunk * B, K) batch. estimate(theta_rows) returns the surrogate whose gradient is the draw.
GradientMoments gradient_moments(const at::Tensor& theta, const at::Tensor& exact_gradient, int64_t draws,
                                 int64_t chunk, const std::function<at::Tensor(const at::Tensor&)>& surrogate);

// Trains, measures every eps and tau, writes summary.json (rows: method "direct" with setting
// {"eps"}, "gumbel_softmax" with {"tau"}; metrics bias, std and relative_bias = bias / scale), summary.csv, bias_variance.csv and
// bias.png / std.png (against eps and tau, log scale) under output_directory, prints the table.
nlohmann::json run_bias_variance(const BiasVarianceConfig& config);

}  // namespace structgrad::experiments
