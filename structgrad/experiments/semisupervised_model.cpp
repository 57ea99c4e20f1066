// The seed 003 semi-supervised VAE's networks and its mixed latent.
#include "structgrad/experiments/semisupervised.h"

#include "structgrad/core/check.h"

namespace structgrad::experiments {
namespace {

torch::nn::Sequential dense(const std::vector<int64_t>& widths, const std::vector<bool>& relu_after) {
  torch::nn::Sequential net;
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    net->push_back(torch::nn::Linear(widths[i], widths[i + 1]));
    if (relu_after[i]) net->push_back(torch::nn::ReLU());
  }
  return net;
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

}  // namespace structgrad::experiments
