#include "structgrad/experiments/bias_variance.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "structgrad/experiments/data_parallel.h"
#include "structgrad/experiments/results_table.h"
#include "structgrad/structures/categorical.h"

namespace structgrad::experiments {

void make_quick(BiasVarianceConfig& config) {
  config.steps = 300;
  config.eval_every = 300;
  config.draws = 200;
  config.eps = {0.1, 1, 10};
  config.tau = {0.1, 1, 5};
  config.quick = true;
}

GradientMoments gradient_moments(const at::Tensor& theta, const at::Tensor& exact_gradient, int64_t draws,
                                 int64_t chunk, const std::function<at::Tensor(const at::Tensor&)>& surrogate) {
  TORCH_CHECK_VALUE(theta.dim() == 2, "gradient_moments: theta must be (B, K), got ", theta.sizes());
  TORCH_CHECK_VALUE(exact_gradient.sizes() == theta.sizes(), "gradient_moments: exact_gradient must have theta's "
                    "shape ", theta.sizes(), ", got ", exact_gradient.sizes());
  TORCH_CHECK_VALUE(draws >= 2 && chunk >= 1, "gradient_moments: draws must be at least 2 and chunk positive, got ",
                    draws, " and ", chunk);
  // Mean and sum of squared deviations, chunk by chunk (Chan et al.'s pairwise update), so that
  // draws that agree give a spread of exactly 0.
  const auto double_options = theta.options().dtype(at::kDouble);
  at::Tensor mean = at::zeros(theta.sizes(), double_options), deviations = at::zeros(theta.sizes(), double_options);
  int64_t done = 0;
  while (done < draws) {
    const int64_t n = std::min(chunk, draws - done);
    at::Tensor rows = theta.detach().repeat({n, 1}).requires_grad_();
    at::Tensor value = surrogate(rows);
    at::Tensor draw = torch::autograd::grad({value}, {rows})[0].view({n, theta.size(0), theta.size(1)});
    draw = draw.to(at::kDouble);
    TORCH_CHECK(draw.isfinite().all().item<bool>(), "gradient_moments: an estimate is not finite");
    const at::Tensor chunk_mean = draw.mean(0);
    const at::Tensor delta = chunk_mean - mean;
    const double total = double(done + n);
    deviations += (draw - chunk_mean).pow(2).sum(0) + delta.pow(2) * (double(done) * double(n) / total);
    mean += delta * (double(n) / total);
    done += n;
  }
  const at::Tensor exact = exact_gradient.to(at::kDouble);
  const at::Tensor variance = deviations / double(draws - 1);
  const at::Tensor squared_bias = ((mean - exact).pow(2) - variance / double(draws)).clamp_min(0);
  return {squared_bias.mean().sqrt().item<double>(), variance.sqrt().mean().item<double>(),
          exact.abs().mean().item<double>()};
}

nlohmann::json run_bias_variance(const BiasVarianceConfig& config) {
  constexpr const char* kName = "bias-variance";
  TORCH_CHECK_VALUE(config.draws >= 2, kName, ": draws must be at least 2, got ", config.draws);
  TORCH_CHECK_VALUE(config.images >= 1, kName, ": images must be positive, got ", config.images);
  TORCH_CHECK_VALUE(!config.eps.empty() || !config.tau.empty(), kName, ": give at least one eps or tau");
  for (double eps : config.eps)
    TORCH_CHECK_VALUE(std::isfinite(eps) && eps > 0, kName, ": every eps must be positive and finite, got ", eps);
  for (double tau : config.tau)
    TORCH_CHECK_VALUE(std::isfinite(tau) && tau > 0, kName, ": every tau must be positive and finite, got ", tau);

  std::fprintf(stderr, "loading Fashion-MNIST from %s\n", config.data_directory.c_str());
  const ImageDataset data = load_fashion_mnist(config.data_directory, /*binarize=*/true);
  TORCH_CHECK_VALUE(config.images <= data.test_images.size(0), kName, ": images (", config.images,
                    ") exceeds the test set");
  DiscreteVae model = nullptr;
  const TrainingResult trained = train_discrete_vae({"exact", "exact", {}, {}}, data, config, model);

  torch::NoGradGuard no_grad;
  const Family family = categorical::family();
  const int64_t pixels = data.test_images.size(1), batch = config.images;
  const at::Tensor x = data.test_images.slice(0, 0, batch);
  const at::Tensor theta = model->encoder->forward(x);
  // Each image's loss for each category, (B, K): the loss of a one-hot z is z . losses, so the
  // exact and direct estimators (which only ever evaluate one-hots) need no decoder per draw.
  const at::Tensor one_hots = at::eye(config.categories, theta.options()).unsqueeze(1).expand({-1, batch, -1});
  const at::Tensor losses = model->reconstruction_loss(one_hots, x).t().contiguous();
  auto table_loss = [&](const at::Tensor& rows) {
    const at::Tensor table = losses.repeat({rows.size(0) / batch, 1});
    return [table](const at::Tensor& z) { return (z * table).sum(-1); };
  };
  at::Tensor exact_gradient;
  {
    torch::AutoGradMode grad(true);
    at::Tensor leaf = theta.detach().requires_grad_();
    exact_gradient = torch::autograd::grad({estimators::exact(family, leaf, table_loss(leaf)).surrogate}, {leaf})[0];
  }

  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(config.seed + 1);
  std::vector<TableRow> rows;
  std::vector<std::string> csv_lines;
  auto measure = [&](const std::string& method, const char* parameter, double value, const estimators::Options& options,
                     bool decode) {
    torch::AutoGradMode grad(true);
    auto surrogate = [&](const at::Tensor& theta_rows) {
      if (!decode) return estimators::estimate(method == "direct" ? "direct" : "relaxed", family, theta_rows,
                                               table_loss(theta_rows), options, generator).surrogate;
      const at::Tensor images = x.repeat({theta_rows.size(0) / batch, 1});
      auto f = [&](const at::Tensor& z) { return model->reconstruction_loss(z, images); };
      return estimators::estimate("relaxed", family, theta_rows, f, options, generator).surrogate;
    };
    const GradientMoments moments = gradient_moments(theta, exact_gradient, config.draws, 500, surrogate);
    add_run(rows, method, {{parameter, value}},
            {{"bias", moments.bias}, {"std", moments.std}, {"relative_bias", moments.bias / moments.scale}});
    csv_lines.push_back(csv_line(method, value, moments.bias, moments.std, moments.bias / moments.scale));
    if (DataParallel::process().writes_results())
      std::fprintf(stderr, "%s %s=%g: bias %.4g, std %.4g\n", method.c_str(), parameter, value, moments.bias,
                   moments.std);
  };
  for (double eps : config.eps) {
    estimators::Options options;
    options.direct.eps = -eps / double(pixels);
    measure("direct", "eps", eps, options, /*decode=*/false);
  }
  for (double tau : config.tau) {
    estimators::Options options;
    options.relax.tau = tau;
    measure("gumbel_softmax", "tau", tau, options, /*decode=*/true);
  }

  const nlohmann::json notes = {
      {"protocol", config.quick ? "--quick: a smoke run" : "full run of this CPU budget"},
      {"checkpoint", "K = " + std::to_string(config.categories) + ", binarized Fashion-MNIST, " +
                         std::to_string(config.steps) + " steps of the exact gradient (batch " +
                         std::to_string(config.batch_size) + "), test loss " + format_number(trained.final_test_loss)},
      {"draws", std::to_string(config.draws) + " estimates per eps and per tau of the gradient with respect to the "
                    "encoder logits of " + std::to_string(batch) + " test images; bias: root mean square over "
                    "coordinates less the mean's Monte Carlo noise; std: mean over coordinates; relative_bias: bias "
                    "over the mean |exact gradient| (" + format_number(exact_gradient.abs().mean().item<double>()) +
                    ")"},
      {"units", "eps in the seed's units (BCE averaged over pixels): the estimator runs at -eps / 784"}};
  nlohmann::json summary = table_summary(kName, rows, nlohmann::json::array(), notes);
  summary["parameter_checksum"] = trained.parameter_checksum;
  if (DataParallel::process().writes_results()) {
    write_table(config.output_directory, summary);
    const std::filesystem::path dir = config.output_directory;
    const std::string csv = (dir / "bias_variance.csv").string();
    {
      std::ofstream out(csv);
      out << "label,parameter,bias,std,relative_bias\n";
      for (const auto& line : csv_lines) out << line << '\n';
    }
    for (const char* metric : {"bias", "std"}) {
      PlotAxes axes;
      axes.x = "parameter";
      axes.x_label = "eps (direct) or tau (Gumbel-softmax)";
      axes.y = metric;
      axes.y_label = std::string(metric) + " of the gradient estimate";
      axes.log_x = true;
      plot_curves(csv, (dir / (std::string(metric) + ".png")).string(), "Seed 003 Fig. 1: " + std::string(metric),
                  axes);
    }
    std::printf("\nBias and standard deviation of the gradient (seed 003 Fig. 1), %lld draws each\n",
                static_cast<long long>(config.draws));
    std::printf("%s", format_table(summary, {"bias", "std", "relative_bias"}).c_str());
    std::printf("\nresults: %s/{summary.json,summary.csv,bias_variance.csv,bias.png,std.png}\n",
                config.output_directory.c_str());
  }
  return summary;
}

}  // namespace structgrad::experiments
