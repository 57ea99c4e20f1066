// Invertible Gaussian reparameterization (IGR; Potapczynski, Loaiza-Ganem & Cunningham, 2020;
// seed 004 §4): a relaxation of a K-category variable obtained by pushing a Gaussian through an
// invertible map onto the interior of the simplex,
//   y = loc + scale * eps,  eps ~ N(0, I_D),   z = g(y, tau) in S^{D} = {z > 0, sum z = 1},
// where z has K = D + 1 entries (the last one is 1 - sum of the others). Because g is invertible
// the density of z is the Gaussian density of g^{-1}(z) over |det J_g| (Eq. 18), and the KL
// between two IGRs that share g is the Gaussian KL (Eq. 19).
//
//   IGR               g(y) = softmax++(y / tau)                        (Eq. 21)
//   IGRPlanar         g(y) = softmax++(flow(y) / tau), planar layers  (Rezende & Mohamed, 2015)
//   IGRStickBreaking  g(y) = softmax++(SB(sigmoid(y)) / tau)          (Eq. 22, 24), truncated:
//                     only the first K - 1 sticks are kept, K the smallest number for which the
//                     stick left over is below 1 - rho (the form of Eq. 25), so K is
//                     chosen by the draw and the support is countably infinite up to the D
//                     Gaussian dimensions given. The last category of each draw takes the
//                     softmax++ slack delta and sits at index K - 1; later entries are 0.
//
// softmax++(x; delta)_k = exp(x_k) / (sum_j exp(x_j) + delta) for k < K and delta / (...) for
// the last entry, i.e. log z = log_softmax([x, log delta]): everything is computed in log space,
// and log |det d softmax++ / dx| = sum_k log z_k by the matrix determinant lemma, so densities
// stay finite at temperatures and locations where z itself rounds to a vertex.
//
// Shapes: loc and scale are (*batch, D); samples are (*sample_shape, *batch, K), log-densities
// (*sample_shape, *batch). Noise is drawn in float64 from the generator, then cast.
//
//   structgrad::distributions::IGR q(loc, scale, /*temperature=*/0.1);
//   IGRSample s = q.rsample_with_log_prob({8}, gen);   // s.z: (8, *batch, D + 1)
//   at::Tensor kl = kl_divergence(q, prior);           // closed form, (*batch)
//   at::Tensor x = hard(s.z);                          // one-hot argmax, straight-through
//
// There is no closed-form mean or entropy: E[g(y)] is a Gaussian integral of softmax++ (a
// logistic-normal moment) with no closed form, and the entropy needs E[log |det J_g|].
// mean_estimate gives the Monte Carlo mean with its standard error instead.
#pragma once

#include <ATen/ATen.h>

#include "structgrad/core/noise.h"

namespace structgrad::distributions {

// log softmax++(x; delta): x (*, D) -> (*, D + 1).
at::Tensor log_softmax_pp(const at::Tensor& x, double delta);

// The one-hot argmax of z in the forward pass with z's gradient in the backward pass
// (straight-through); for evaluation it is simply the discrete category.
at::Tensor hard(const at::Tensor& z);

// A Monte Carlo average and its standard error (sample standard deviation / sqrt(n)).
struct MonteCarloEstimate {
  at::Tensor estimate;
  at::Tensor standard_error;
};

// The mean over the first dimension of draws (n, *), n >= 2, with its standard error: (*).
MonteCarloEstimate monte_carlo_mean(const at::Tensor& draws);

struct IGRSample {
  at::Tensor z;               // (*, K) point of the simplex
  at::Tensor log_z;           // log z, finite where z underflows to 0
  at::Tensor log_prob;        // (*) log-density of z (Lebesgue measure on its first K - 1 entries)
  at::Tensor num_categories;  // (*) int64: K, which varies per draw only for IGRStickBreaking
  at::Tensor latent;          // (*, D) the Gaussian point y
};

// What the three variants share: the Gaussian, sampling, densities by change of variables.
class InvertibleGaussian {
 public:
  virtual ~InvertibleGaussian() = default;

  // z = g(y) with its log-density; differentiable in every parameter.
  IGRSample rsample_with_log_prob(at::IntArrayRef sample_shape = {}, GeneratorOpt generator = c10::nullopt) const;
  // z, or hard(z) when `hard`: (*sample_shape, *batch, K).
  at::Tensor rsample(at::IntArrayRef sample_shape = {}, GeneratorOpt generator = c10::nullopt,
                     bool hard = false) const;
  // The mean of z from num_samples >= 2 draws, (*batch, W), with its standard error; W = D + 1,
  // or for IGRStickBreaking the largest K among the draws (entries past a draw's K count as 0).
  MonteCarloEstimate mean_estimate(int64_t num_samples, GeneratorOpt generator = c10::nullopt) const;
  // Pushes Gaussian points y (*, D), broadcastable against loc, through g.
  IGRSample transform(const at::Tensor& y) const;
  // log-density of points z (*, W) of the open simplex, * broadcastable against the batch shape;
  // -inf outside the support (a 0 entry included). num_categories (*), optional, gives each
  // row's K for the zero-padded draws of IGRStickBreaking; by default K = W in every row
  // (W = D + 1 for the other variants).
  at::Tensor log_prob(const at::Tensor& z, const at::Tensor& num_categories = {}) const;
  // The same from log z, which stays informative where z has underflowed.
  at::Tensor log_prob_log_space(const at::Tensor& log_z, const at::Tensor& num_categories = {}) const;

  // True when `other` has the same g (variant, temperature, delta, D and the variant's own
  // parameters), the condition for the closed-form KL.
  virtual bool same_map(const InvertibleGaussian& other) const;

  const at::Tensor& loc() const { return loc_; }
  const at::Tensor& scale() const { return scale_; }
  double temperature() const { return temperature_; }
  double delta() const { return delta_; }
  int64_t latent_dim() const { return loc_.size(-1); }

 protected:
  // loc, scale: (*batch, D), same shape; scale > 0; temperature > 0; delta > 0.
  InvertibleGaussian(const char* name, at::Tensor loc, at::Tensor scale, double temperature, double delta);

  struct Mapped {
    at::Tensor log_z;           // (*, K)
    at::Tensor log_abs_det;     // (*) log |det dz_{1:K-1} / dy|, over the coordinates y used
    at::Tensor num_categories;  // (*) int64
  };
  virtual Mapped map(const at::Tensor& y) const = 0;
  // g^{-1}: log z (*, W) with num_categories (*) -> y (*, D), non-finite in rows that are not
  // in the image of g; coordinates past a row's K - 1 are 0.
  virtual at::Tensor inverse(const at::Tensor& log_z, const at::Tensor& num_categories) const = 0;
  // transform without its argument checks, for points built from checked parameters.
  IGRSample push_forward(const at::Tensor& y) const;
  at::Tensor log_prob_of(const at::Tensor& log_z, at::Tensor num_categories) const;

  const char* name_;
  at::Tensor loc_, scale_;
  double temperature_, delta_;
  // Draws with fewer than D + 1 categories are possible (IGRStickBreaking).
  bool truncated_ = false;
};

// Eq. 21: z = softmax++(y / tau).
class IGR : public InvertibleGaussian {
 public:
  IGR(at::Tensor loc, at::Tensor scale, double temperature, double delta = 0.1);

 protected:
  Mapped map(const at::Tensor& y) const override;
  at::Tensor inverse(const at::Tensor& log_z, const at::Tensor& num_categories) const override;
};

// Planar flow layers f_l(y) = y + u_l tanh(w_l . y + b_l) between the Gaussian and softmax++.
// u is reparameterized (u_hat = u + (softplus(w.u) - 1 - w.u) w / |w|^2) so that w . u_hat > -1
// and every layer is invertible. u, w: (L, D) or (L, *batch, D) broadcastable against loc;
// b: u's shape without the last dimension. The inverse (for log_prob) solves one monotone scalar
// equation per layer by bisection, then takes one Newton step with gradient so that log_prob is
// differentiable in every parameter (implicit differentiation at the root).
class IGRPlanar : public InvertibleGaussian {
 public:
  IGRPlanar(at::Tensor loc, at::Tensor scale, at::Tensor u, at::Tensor w, at::Tensor b, double temperature,
            double delta = 0.1);
  bool same_map(const InvertibleGaussian& other) const override;

 protected:
  Mapped map(const at::Tensor& y) const override;
  at::Tensor inverse(const at::Tensor& log_z, const at::Tensor& num_categories) const override;

 private:
  at::Tensor u_hat(int64_t layer) const;
  at::Tensor u_, w_, b_;
};

// Eq. 24 with truncation: D is the most sticks a draw may use (the number of Gaussian
// parameters kept in memory); K - 1 <= D sticks are used, the fewest whose leftover stick is
// below 1 - rho, or all D when that never happens (then the leftover may exceed 1 - rho).
// Samples are (*, W) with W the largest K of the draw; entries past a draw's K are 0.
// rho in (0, 1).
class IGRStickBreaking : public InvertibleGaussian {
 public:
  IGRStickBreaking(at::Tensor loc, at::Tensor scale, double temperature, double delta = 0.1, double rho = 0.99);
  bool same_map(const InvertibleGaussian& other) const override;
  double rho() const { return rho_; }

 protected:
  Mapped map(const at::Tensor& y) const override;
  at::Tensor inverse(const at::Tensor& log_z, const at::Tensor& num_categories) const override;

 private:
  double rho_;
};

// Eq. 19: KL(q || p) = KL(N(q.loc, q.scale) || N(p.loc, p.scale)), the broadcast batch shape
// of q and p (a prior of shape (D) serves a (*batch, D) posterior). q and p must share g
// (same_map). For IGRStickBreaking this is the KL of the untruncated D-stick relaxation, an
// upper bound on the KL of the truncated draws (data processing); the truncated KL is
// E_q[sum over the K - 1 sticks used of the per-coordinate Gaussian KL].
at::Tensor kl_divergence(const InvertibleGaussian& q, const InvertibleGaussian& p);

}  // namespace structgrad::distributions
