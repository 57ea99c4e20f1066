#include "structgrad/distributions/igr.h"

#include <cmath>
#include <limits>
#include <typeinfo>

#include "structgrad/core/check.h"
#include "structgrad/core/log_space.h"

namespace structgrad::distributions {
namespace {

using core::kInf;

// N(0, 1) noise, drawn in float64 like every other sampler's noise (ops/noise.h).
at::Tensor standard_normal(at::IntArrayRef sizes, const at::TensorOptions& options, GeneratorOpt generator) {
  return at::empty(sizes, at::TensorOptions().dtype(at::kDouble)).normal_(0, 1, generator).to(options.dtype());
}

// log z (*, D + 1) -> x (*, D) with softmax++(x) = z: x_k = log z_k - log z_last + log delta.
at::Tensor inverse_softmax_pp(const at::Tensor& log_z, double delta) {
  const int64_t dim = log_z.size(-1) - 1;
  return log_z.narrow(-1, 0, dim) - log_z.narrow(-1, dim, 1) + std::log(delta);
}

// log |det| of y -> softmax++(y / tau) on D coordinates, from its output (matrix determinant
// lemma: det(diag(z) - z z^T) = prod_k z_k * (1 - sum_k z_k)).
at::Tensor softmax_pp_log_abs_det(const at::Tensor& log_z, double temperature) {
  return log_z.sum(-1) - double(log_z.size(-1) - 1) * std::log(temperature);
}

at::Tensor constant_categories(const at::Tensor& y, int64_t categories) {
  auto rows = y.sizes().slice(0, y.dim() - 1);
  return at::full(rows, categories, y.options().dtype(at::kLong));
}

}  // namespace

at::Tensor log_softmax_pp(const at::Tensor& x, double delta) {
  at::Tensor slack = at::full_like(x.narrow(-1, 0, 1), std::log(delta));
  return at::log_softmax(at::cat({x, slack}, -1), -1);
}

MonteCarloEstimate monte_carlo_mean(const at::Tensor& draws) {
  check::logits("monte_carlo_mean", "draws", draws, 1);
  TORCH_CHECK_VALUE(draws.size(0) >= 2, "monte_carlo_mean: draws must hold at least 2 samples, got shape ",
                    check::shape_string(draws.sizes()));
  return {draws.mean(0), draws.std(0, /*unbiased=*/true) / std::sqrt(double(draws.size(0)))};
}

at::Tensor hard(const at::Tensor& z) {
  at::Tensor one_hot = at::one_hot(z.argmax(-1), z.size(-1)).to(z.scalar_type());
  // (z - z) is exactly zero, so the forward is exactly one-hot.
  return one_hot + (z - z.detach());
}

InvertibleGaussian::InvertibleGaussian(const char* name, at::Tensor loc, at::Tensor scale, double temperature,
                                       double delta)
    : name_(name), loc_(std::move(loc)), scale_(std::move(scale)), temperature_(temperature), delta_(delta) {
  check::logits(name, "loc", loc_, 1);
  check::finite(name, "loc", loc_);
  check::logits(name, "scale", scale_, 1);
  TORCH_CHECK_VALUE(loc_.sizes() == scale_.sizes(), name, ": loc and scale must have the same shape, got ",
                    check::shape_string(loc_.sizes()), " and ", check::shape_string(scale_.sizes()));
  TORCH_CHECK_VALUE(((scale_ > 0) & at::isfinite(scale_)).all().item<bool>(), name,
                    ": scale (sigma) must be positive and finite everywhere");
  check::positive(name, "temperature", temperature_);
  check::positive(name, "delta", delta_);
}

IGRSample InvertibleGaussian::transform(const at::Tensor& y) const {
  const std::string function = std::string(name_) + ".transform";
  check::logits(function.c_str(), "y", y, 1);
  TORCH_CHECK_VALUE(y.size(-1) == latent_dim(), function, ": y must end in ", latent_dim(),
                    " coordinates, got shape ", check::shape_string(y.sizes()));
  check::broadcastable(function.c_str(), "y and loc", y.sizes(), loc_.sizes());
  return push_forward(y);
}

IGRSample InvertibleGaussian::push_forward(const at::Tensor& y) const {
  Mapped mapped = map(y);
  at::Tensor standardized = (y - loc_) / scale_;
  at::Tensor log_normal = -0.5 * standardized.square() - scale_.log() - 0.5 * std::log(2 * M_PI);
  if (truncated_) {
    // Only the coordinates a draw uses carry Gaussian density.
    at::Tensor used =
        at::arange(latent_dim(), y.options().dtype(at::kLong)) < (mapped.num_categories - 1).unsqueeze(-1);
    log_normal = log_normal.masked_fill(~used, 0);
  }
  at::Tensor log_gaussian = log_normal.sum(-1);
  return {mapped.log_z.exp(), mapped.log_z, log_gaussian - mapped.log_abs_det, mapped.num_categories, y};
}

IGRSample InvertibleGaussian::rsample_with_log_prob(at::IntArrayRef sample_shape, GeneratorOpt generator) const {
  std::vector<int64_t> sizes(sample_shape.begin(), sample_shape.end());
  sizes.insert(sizes.end(), loc_.sizes().begin(), loc_.sizes().end());
  return push_forward(loc_ + scale_ * standard_normal(sizes, loc_.options(), generator));
}

at::Tensor InvertibleGaussian::rsample(at::IntArrayRef sample_shape, GeneratorOpt generator, bool hard) const {
  at::Tensor z = rsample_with_log_prob(sample_shape, generator).z;
  return hard ? distributions::hard(z) : z;
}

MonteCarloEstimate InvertibleGaussian::mean_estimate(int64_t num_samples, GeneratorOpt generator) const {
  check::in_range((std::string(name_) + ".mean_estimate").c_str(), "num_samples", num_samples, 2, INT64_MAX);
  return monte_carlo_mean(rsample({num_samples}, generator));
}

at::Tensor InvertibleGaussian::log_prob(const at::Tensor& z, const at::Tensor& num_categories) const {
  check::logits((std::string(name_) + ".log_prob").c_str(), "value", z, 1);
  // Zeros become -inf without a log(0) in the graph, whose backward would be 0/0.
  at::Tensor positive = z > 0;
  at::Tensor log_z = at::where(positive, at::where(positive, z, at::ones_like(z)).log(), at::full_like(z, -kInf));
  return log_prob_of(log_z, num_categories);
}

at::Tensor InvertibleGaussian::log_prob_log_space(const at::Tensor& log_z, const at::Tensor& num_categories) const {
  check::logits((std::string(name_) + ".log_prob_log_space").c_str(), "log_value", log_z, 1);
  return log_prob_of(log_z, num_categories);
}

at::Tensor InvertibleGaussian::log_prob_of(const at::Tensor& log_z, at::Tensor num_categories) const {
  const int64_t width = log_z.size(-1);
  const int64_t full = latent_dim() + 1;
  TORCH_CHECK_VALUE(truncated_ ? (width >= 2 && width <= full) : width == full, name_,
                    ".log_prob: value must end in ", truncated_ ? "at most " : "", full,
                    " categories, got shape ", check::shape_string(log_z.sizes()));
  auto rows = log_z.sizes().slice(0, log_z.dim() - 1);
  check::broadcastable((std::string(name_) + ".log_prob").c_str(), "value and the batch", rows,
                       loc_.sizes().slice(0, loc_.dim() - 1));
  if (num_categories.defined()) {
    TORCH_CHECK_VALUE(!at::isFloatingType(num_categories.scalar_type()) && num_categories.sizes() == rows, name_,
                      ".log_prob: num_categories must be an integer tensor of shape ", check::shape_string(rows),
                      ", got a ", num_categories.scalar_type(), " tensor of shape ",
                      check::shape_string(num_categories.sizes()));
    TORCH_CHECK_VALUE(((num_categories >= 2) & (num_categories <= width)).all().item<bool>(), name_,
                      ".log_prob: num_categories must be in [2, ", width, "]");
    num_categories = num_categories.to(at::kLong);
  } else {
    num_categories = at::full(rows, width, log_z.options().dtype(at::kLong));
  }
  at::Tensor inside = at::arange(width, num_categories.options()) < num_categories.unsqueeze(-1);
  at::Tensor finite = at::isfinite(log_z);
  // Finite values keep the graph free of inf - inf; the rows that needed it are masked below.
  at::Tensor safe = at::where(finite, log_z, at::zeros_like(log_z));
  IGRSample back = push_forward(inverse(safe, num_categories));
  // z is in the support iff it is nonzero inside its K categories, zero after them, and g maps
  // its preimage back onto it (which also checks that it sums to one).
  const int64_t common = std::min(width, back.log_z.size(-1));
  const double tolerance = std::sqrt(log_z.scalar_type() == at::kDouble ? std::numeric_limits<double>::epsilon()
                                                                         : std::numeric_limits<float>::epsilon());
  at::Tensor head = safe.narrow(-1, 0, common);
  at::Tensor mismatch = ((back.log_z.narrow(-1, 0, common) - head).abs() - tolerance * (1 + head.abs()))
                            .masked_fill(~inside.narrow(-1, 0, common), 0);
  at::Tensor in_support = (finite == inside).all(-1) & (log_z != kInf).all(-1) & (mismatch <= 0).all(-1) &
                          (back.num_categories == num_categories);
  return at::where(in_support, back.log_prob, at::full_like(back.log_prob, -kInf));
}

bool InvertibleGaussian::same_map(const InvertibleGaussian& other) const {
  return typeid(*this) == typeid(other) && temperature_ == other.temperature_ && delta_ == other.delta_ &&
         latent_dim() == other.latent_dim();
}

IGR::IGR(at::Tensor loc, at::Tensor scale, double temperature, double delta)
    : InvertibleGaussian("IGR", std::move(loc), std::move(scale), temperature, delta) {}

IGR::Mapped IGR::map(const at::Tensor& y) const {
  at::Tensor log_z = log_softmax_pp(y / temperature_, delta_);
  return {log_z, softmax_pp_log_abs_det(log_z, temperature_), constant_categories(y, latent_dim() + 1)};
}

at::Tensor IGR::inverse(const at::Tensor& log_z, const at::Tensor&) const {
  return temperature_ * inverse_softmax_pp(log_z, delta_);
}

IGRPlanar::IGRPlanar(at::Tensor loc, at::Tensor scale, at::Tensor u, at::Tensor w, at::Tensor b,
                     double temperature, double delta)
    : InvertibleGaussian("IGRPlanar", std::move(loc), std::move(scale), temperature, delta),
      u_(std::move(u)), w_(std::move(w)), b_(std::move(b)) {
  check::logits(name_, "u", u_, 2);
  check::logits(name_, "w", w_, 2);
  check::logits(name_, "b", b_, 1);
  check::finite(name_, "u", u_);
  check::finite(name_, "w", w_);
  check::finite(name_, "b", b_);
  TORCH_CHECK_VALUE(u_.sizes() == w_.sizes() && u_.size(-1) == latent_dim(), name_,
                    ": u and w must both have shape (layers, ..., ", latent_dim(), "), got ",
                    check::shape_string(u_.sizes()), " and ", check::shape_string(w_.sizes()));
  TORCH_CHECK_VALUE(b_.sizes() == u_.sizes().slice(0, u_.dim() - 1), name_, ": b must have shape ",
                    check::shape_string(u_.sizes().slice(0, u_.dim() - 1)), ", got ", check::shape_string(b_.sizes()));
  check::broadcastable(name_, "each layer of u and w, and loc,", u_[0].sizes(), loc_.sizes());
  TORCH_CHECK_VALUE(at::infer_size(u_[0].sizes(), loc_.sizes()) == loc_.sizes(), name_,
                    ": each layer of u and w, shape ", check::shape_string(u_[0].sizes()),
                    ", must broadcast to loc's shape ", check::shape_string(loc_.sizes()));
}

at::Tensor IGRPlanar::u_hat(int64_t layer) const {
  at::Tensor u = u_[layer], w = w_[layer];
  at::Tensor wu = (w * u).sum(-1, true);
  at::Tensor norm = w.square().sum(-1, true).clamp_min(std::numeric_limits<float>::min());
  return u + (at::softplus(wu) - 1 - wu) * w / norm;
}

IGRPlanar::Mapped IGRPlanar::map(const at::Tensor& y) const {
  at::Tensor v = y;
  at::Tensor log_abs_det = at::zeros_like(y.select(-1, 0));
  for (int64_t layer = 0; layer < u_.size(0); ++layer) {
    at::Tensor u = u_hat(layer), w = w_[layer];
    at::Tensor t = at::tanh((w * v).sum(-1) + b_[layer]);
    v = v + u * t.unsqueeze(-1);
    // det(I + u psi^T) = 1 + psi . u with psi = (1 - t^2) w; w . u_hat > -1 keeps it positive.
    log_abs_det = log_abs_det + at::log1p((1 - t.square()) * (w * u).sum(-1));
  }
  at::Tensor log_z = log_softmax_pp(v / temperature_, delta_);
  return {log_z, log_abs_det + softmax_pp_log_abs_det(log_z, temperature_), constant_categories(y, latent_dim() + 1)};
}

at::Tensor IGRPlanar::inverse(const at::Tensor& log_z, const at::Tensor&) const {
  at::Tensor v = temperature_ * inverse_softmax_pp(log_z, delta_);
  for (int64_t layer = u_.size(0) - 1; layer >= 0; --layer) {
    at::Tensor u = u_hat(layer), w = w_[layer], b = b_[layer];
    // a = w . y_in solves a + c tanh(a + b) = s, c = w . u_hat > -1, s = w . y_out: increasing
    // in a, with the root within |c| of s.
    at::Tensor c = (w * u).sum(-1), s = (w * v).sum(-1);
    at::Tensor root;
    {
      at::NoGradGuard no_grad;
      at::Tensor cd = c.to(at::kDouble), sd = s.to(at::kDouble), bd = b.to(at::kDouble);
      at::Tensor lo = sd - cd.abs(), hi = sd + cd.abs();
      for (int i = 0; i < 64; ++i) {
        at::Tensor mid = (lo + hi) / 2;
        at::Tensor below = mid + cd * at::tanh(mid + bd) < sd;
        lo = at::where(below, mid, lo);
        hi = at::where(below, hi, mid);
      }
      root = ((lo + hi) / 2).to(v.scalar_type());
    }
    // One Newton step from the root: the same value, and the implicit-function gradient.
    at::Tensor t = at::tanh(root + b);
    at::Tensor a = root - (root + c * t - s) / (1 + c * (1 - t.square()));
    v = v - u * at::tanh(a + b).unsqueeze(-1);
  }
  return v;
}

bool IGRPlanar::same_map(const InvertibleGaussian& other) const {
  if (!InvertibleGaussian::same_map(other)) return false;
  const auto& planar = static_cast<const IGRPlanar&>(other);
  auto same = [](const at::Tensor& a, const at::Tensor& b) { return a.sizes() == b.sizes() && at::equal(a, b); };
  return same(u_, planar.u_) && same(w_, planar.w_) && same(b_, planar.b_);
}

IGRStickBreaking::IGRStickBreaking(at::Tensor loc, at::Tensor scale, double temperature, double delta, double rho)
    : InvertibleGaussian("IGRStickBreaking", std::move(loc), std::move(scale), temperature, delta), rho_(rho) {
  TORCH_CHECK_VALUE(rho_ > 0 && rho_ < 1, name_, ": rho must be in (0, 1), got ", rho_);
  truncated_ = true;
}

IGRStickBreaking::Mapped IGRStickBreaking::map(const at::Tensor& y) const {
  at::Tensor log_u = at::log_sigmoid(y), log_stay = at::log_sigmoid(-y);
  // log of the stick left before each break.
  at::Tensor log_left =
      at::cat({at::zeros_like(y.narrow(-1, 0, 1)), at::cumsum(log_stay, -1).narrow(-1, 0, latent_dim() - 1)}, -1);
  // The leftover is nonincreasing, so `used` is a prefix; the first break is always used.
  at::Tensor used = log_left >= std::log1p(-rho_);
  at::Tensor sticks = used.sum(-1);
  at::Tensor x = ((log_u + log_left).exp() / temperature_).masked_fill(~used, -kInf);
  at::Tensor log_normalizer =
      at::logsumexp(at::cat({x, at::full_like(x.narrow(-1, 0, 1), std::log(delta_))}, -1), -1, true);
  at::Tensor log_z_sticks = x - log_normalizer;
  at::Tensor log_slack = std::log(delta_) - log_normalizer;
  // The slack category goes right after the sticks used, at index K - 1.
  at::Tensor log_z =
      at::cat({log_z_sticks, at::full_like(log_slack, -kInf)}, -1).scatter(-1, sticks.unsqueeze(-1), log_slack);
  const int64_t width = sticks.numel() ? sticks.max().item<int64_t>() + 1 : 1;
  // Triangular chain y -> sigmoid -> stick-breaking -> / tau -> softmax++ on the sticks used.
  at::Tensor per_stick = (log_u + log_stay + log_left + log_z_sticks).masked_fill(~used, 0);
  at::Tensor log_abs_det =
      per_stick.sum(-1) + log_slack.squeeze(-1) - sticks.to(y.scalar_type()) * std::log(temperature_);
  return {log_z.narrow(-1, 0, width), log_abs_det, sticks + 1};
}

at::Tensor IGRStickBreaking::inverse(const at::Tensor& log_z, const at::Tensor& num_categories) const {
  const int64_t sticks = log_z.size(-1) - 1;
  at::Tensor stick = at::arange(sticks, num_categories.options()) < (num_categories - 1).unsqueeze(-1);
  at::Tensor log_slack = log_z.gather(-1, (num_categories - 1).unsqueeze(-1));
  at::Tensor w = (temperature_ * (log_z.narrow(-1, 0, sticks) - log_slack + std::log(delta_))).masked_fill(~stick, 0);
  at::Tensor left = 1 - (at::cumsum(w, -1) - w);
  // Clamped so that y stays finite for z outside the image; log_prob_of rejects those rows.
  const double tiny = std::numeric_limits<float>::min();
  at::Tensor y = (w.clamp_min(tiny).log() - (left - w).clamp_min(tiny).log()).masked_fill(~stick, 0);
  // left - w carries 1 - u to an absolute error of about eps, so y = logit(u) is off by about
  // eps / (1 - u): where a stick's sigmoid is within 1e4 eps of 1 (y beyond about 27 in float64,
  // 7 in float32) y is known to worse than 1e-4 (at y = 40 in float64 it reads 88.8), and where
  // its share w underflows log w is lost. z no longer determines y there: those rows get y = 0,
  // which g maps to another z, so that log_prob_of finds them outside the image and answers
  // -inf, not a finite wrong density.
  const double eps = log_z.scalar_type() == at::kDouble ? std::numeric_limits<double>::epsilon()
                                                       : std::numeric_limits<float>::epsilon();
  at::Tensor lost = (stick & (((left - w) <= 1e4 * eps * left) | (w <= 1024 * tiny))).any(-1, true);
  y = y.masked_fill(lost, 0);
  return at::constant_pad_nd(y, {0, latent_dim() - sticks});
}

bool IGRStickBreaking::same_map(const InvertibleGaussian& other) const {
  return InvertibleGaussian::same_map(other) && rho_ == static_cast<const IGRStickBreaking&>(other).rho_;
}

at::Tensor kl_divergence(const InvertibleGaussian& q, const InvertibleGaussian& p) {
  TORCH_CHECK_VALUE(q.same_map(p), "kl_divergence: q and p must share the invertible map (same variant, "
                    "temperature, delta, latent dimension and variant parameters); only then is the KL the "
                    "Gaussian KL");
  check::broadcastable("kl_divergence", "q.loc and p.loc", q.loc().sizes(), p.loc().sizes());
  at::Tensor ratio = q.scale() / p.scale();
  at::Tensor shift = (q.loc() - p.loc()) / p.scale();
  return (0.5 * (ratio.square() + shift.square() - 1) - ratio.log()).sum(-1);
}

}  // namespace structgrad::distributions
