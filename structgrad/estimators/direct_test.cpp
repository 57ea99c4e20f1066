// Direct optimization through argmax (seed 003) against the exact gradient by enumeration.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "structgrad/estimators/check.h"
#include "structgrad/estimators/estimators.h"
#include "structgrad/structures/bernoulli.h"
#include "structgrad/structures/categorical.h"
#include "structgrad/structures/pairwise_binary.h"
#include "structgrad/structures/ranking.h"
#include "structgrad/structures/spanning_tree.h"
#include "structgrad/structures/topk.h"

namespace structgrad::estimators {
namespace {

at::Tensor fixed_tensor(at::IntArrayRef sizes, uint64_t seed) {
  return at::randn(sizes, at::make_generator<at::CPUGeneratorImpl>(seed), at::kDouble);
}

at::Tensor gradient_of(const Estimate& e, const at::Tensor& theta) {
  return torch::autograd::grad({e.surrogate}, {theta})[0];
}

TEST(Direct, BiasShrinksAndVarianceGrowsAsEpsGoesToZero) {
  // Seed 003 Fig. 1: the trade-off, for both signs of eps.
  at::Tensor theta = fixed_tensor({5}, 1);
  LossFn f = quadratic_loss(fixed_tensor({5}, 2), fixed_tensor({5}, 3));
  for (double sign : {1.0, -1.0}) {
    std::vector<double> bias, variance;
    for (double eps : {2.0, 0.5, 0.1}) {
      Options options;
      options.direct.eps = sign * eps;
      auto report = check_estimator("direct", categorical::family(), theta, f, options, 20000, 4);
      bias.push_back(report.relative_bias);
      variance.push_back(report.variance);
    }
    EXPECT_GT(bias[0], bias[1]) << sign;
    EXPECT_GT(bias[1], bias[2]) << sign;
    EXPECT_LT(bias[2], 0.1) << sign;
    EXPECT_LT(variance[0], variance[1]) << sign;
    EXPECT_LT(variance[1], variance[2]) << sign;
  }
}

TEST(Direct, LinearFlipAndEnumerateAgreeOnALinearLoss) {
  at::Tensor theta = fixed_tensor({6, 5}, 5).requires_grad_();
  at::Tensor costs = fixed_tensor({6, 5}, 6);
  LossFn f = [&](const at::Tensor& x) { return (x * costs).sum(-1); };
  std::vector<at::Tensor> gradients;
  for (const char* argmax : {"enumerate", "linear", "flip"}) {
    DirectOptions options;
    options.eps = 0.7;
    options.argmax = argmax;
    options.costs = costs;
    gradients.push_back(gradient_of(direct(topk::family(2), theta, f, options, at::make_generator<at::CPUGeneratorImpl>(7)), theta));
  }
  EXPECT_TRUE(at::allclose(gradients[0], gradients[1]));
  EXPECT_TRUE(at::allclose(gradients[0], gradients[2]));
  EXPECT_GT(gradients[0].abs().sum().item<double>(), 0);
}

TEST(Direct, FlipWorksOnSymmetricFamilies) {
  at::Tensor a = fixed_tensor({5, 5}, 8);
  at::Tensor theta = ((a + a.t()) / 2).unsqueeze(0).repeat({4, 1, 1}).requires_grad_();
  at::Tensor b = fixed_tensor({5, 5}, 9);
  at::Tensor costs = (b + b.t()).unsqueeze(0).expand({4, 5, 5});
  LossFn f = [&](const at::Tensor& x) { return (x * costs).sum({-1, -2}) / 2; };  // each edge once
  DirectOptions linear, flip;
  linear.argmax = "linear";
  linear.costs = costs;
  flip.argmax = "flip";
  at::Tensor g_linear = gradient_of(direct(spanning_tree::family(), theta, f, linear, at::make_generator<at::CPUGeneratorImpl>(10)), theta);
  at::Tensor g_flip = gradient_of(direct(spanning_tree::family(), theta, f, flip, at::make_generator<at::CPUGeneratorImpl>(10)), theta);
  EXPECT_TRUE(at::allclose(g_linear, g_flip));
}

TEST(Direct, LabelsPullTowardsTheLabel) {
  at::Tensor theta = at::zeros({3, 4}, at::kDouble).requires_grad_();
  LossFn f = [](const at::Tensor& x) { return x.select(-1, 0) * 0; };
  DirectOptions options;
  options.eps = 0.5;
  options.labels = at::one_hot(at::tensor({2, 2, 2}, at::kLong), 4).to(at::kDouble);
  options.labelled = at::tensor({1, 0, 1}, at::kLong).to(at::kBool);
  at::Tensor g = gradient_of(direct(categorical::family(), theta, f, options, at::make_generator<at::CPUGeneratorImpl>(30)), theta);
  // A descent step (theta -= g) raises the label's score where labelled, nothing elsewhere
  // (f is constant, so the loss-augmented argmax is z* itself).
  EXPECT_LE(g[0][2].item<double>(), 0);
  EXPECT_LE(g[2][2].item<double>(), 0);
  EXPECT_EQ(g[1].abs().sum().item<double>(), 0);
  EXPECT_GT(g.abs().sum().item<double>(), 0);  // some z* differs from the label
}

TEST(Direct, EpsScheduleAnnealsEveryNSteps) {
  EpsSchedule schedule;
  schedule.rate = 1e-3;
  EXPECT_DOUBLE_EQ(schedule.value(0), 1.0);
  EXPECT_DOUBLE_EQ(schedule.value(999), 1.0);
  EXPECT_DOUBLE_EQ(schedule.value(1000), std::exp(-1.0));
  EXPECT_DOUBLE_EQ(schedule.value(100000), 0.1);
  schedule.start = -2.0;  // the other one-sided difference keeps its sign
  EXPECT_DOUBLE_EQ(schedule.value(0), -2.0);
  EXPECT_DOUBLE_EQ(schedule.value(100000), -0.1);
  schedule.start = 0;
  EXPECT_THROW(schedule.value(0), c10::ValueError);
}

TEST(Direct, BinaryLatentsWithFlipAndEnumerate) {
  // seed 003 §5: binary latents, the low-dimensional approximation and exact enumeration, both
  // with less bias at smaller eps.
  at::Tensor theta = fixed_tensor({6}, 21);
  LossFn f = quadratic_loss(fixed_tensor({6}, 22), fixed_tensor({6}, 23));
  for (const char* argmax : {"enumerate", "flip"}) {
    Options options;
    options.direct.argmax = argmax;
    options.direct.eps = 1.0;
    auto far = check_estimator("direct", bernoulli::family(), theta, f, options, 10000, 24);
    options.direct.eps = 0.1;
    auto near = check_estimator("direct", bernoulli::family(), theta, f, options, 10000, 24);
    EXPECT_LT(near.relative_bias, far.relative_bias) << argmax;
  }
}

TEST(Arm, IsUnbiasedAndNeedsBinaryChoices) {
  at::Tensor theta = fixed_tensor({5}, 25);
  LossFn f = quadratic_loss(fixed_tensor({5}, 26), fixed_tensor({5}, 27));
  Options options;
  options.num_samples = 2;
  auto report = check_estimator("arm", bernoulli::family(), theta, f, options, 20000, 28);
  EXPECT_TRUE(report.passed) << report.verdict;
  EXPECT_FALSE(report.bias_detected) << report.verdict;
  auto reinforce = check_estimator("reinforce", bernoulli::family(), theta, f, options, 20000, 29);
  EXPECT_LT(report.variance, reinforce.variance);
  EXPECT_THROW(arm(categorical::family(), theta, f), c10::ValueError);
}

TEST(Direct, BadInput) {
  at::Tensor theta = fixed_tensor({2, 4}, 11);
  LossFn f = [](const at::Tensor& x) { return x.sum(-1); };
  DirectOptions zero;
  zero.eps = 0;
  EXPECT_THROW(direct(categorical::family(), theta, f, zero), c10::ValueError);
  DirectOptions unknown;
  unknown.argmax = "gradient";
  EXPECT_THROW(direct(categorical::family(), theta, f, unknown), c10::ValueError);
  LossFn wrong = [](const at::Tensor& x) { return x; };
  EXPECT_THROW(direct(categorical::family(), theta, wrong, {}), c10::ValueError);
  EXPECT_THROW(direct(ranking::family(), theta, [](const at::Tensor& x) { return x.sum({-1, -2}); }, {}), c10::ValueError);
  DirectOptions no_costs;
  no_costs.argmax = "linear";
  EXPECT_THROW(direct(categorical::family(), theta, f, no_costs), c10::ValueError);
}

// --- The structured encoder of seed 003 §4.1: direct_pairwise_binary ---

at::Tensor symmetric_pairs(at::IntArrayRef batch, int64_t n, uint64_t seed, bool nonnegative) {
  std::vector<int64_t> sizes(batch.begin(), batch.end());
  sizes.push_back(n);
  sizes.push_back(n);
  at::Tensor a = fixed_tensor(sizes, seed).triu(1);
  if (nonnegative) a = a.abs();
  return a + a.transpose(-1, -2);
}

// A loss that no decomposition captures: an arbitrary value for every state of {0,1}^n.
LossFn state_table_loss(int64_t n, uint64_t seed) {
  at::Tensor table = fixed_tensor({int64_t(1) << n}, seed);
  at::Tensor powers = at::pow(2.0, at::arange(n, at::kDouble));
  return [=](const at::Tensor& z) {
    return table.index_select(0, (z.to(at::kDouble) * powers).sum(-1).round().to(at::kLong).flatten())
        .reshape(z.sizes().slice(0, z.dim() - 1));
  };
}

TEST(DirectPairwiseBinary, EnumerateTendsToTheGradientUnderItsPerturbation) {
  // The reference differentiates the perturbation's density instead of the argmax:
  // d/dh E[f(z*(h + L))] = E[f tanh(L / 2)] for logistic L, one for every unary and pair.
  const int64_t n = 4, reference_draws = 400000, draws = 200000;
  at::Tensor h = fixed_tensor({n}, 40), a = symmetric_pairs({}, n, 41, /*nonnegative=*/false);
  LossFn f = state_table_loss(n, 42);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(43);
  auto p = pairwise_binary::perturb(h.expand({reference_draws, n}), a.expand({reference_draws, n, n}), true, generator);
  at::Tensor losses = f(pairwise_binary::map(p.h, p.a).unsqueeze(0)).squeeze(0);
  at::Tensor centred = (losses - losses.mean()).unsqueeze(-1);
  at::Tensor reference = at::cat({(centred * at::tanh((p.h - h) / 2)).mean(0),
                                  (centred.unsqueeze(-1) * at::tanh((p.a - a) / 2)).mean(0).triu(1).flatten()});

  std::vector<double> error, variance;
  for (double eps : {2.0, 0.5, 0.1}) {
    at::Tensor hb = h.repeat({draws, 1}).requires_grad_(), ab = a.repeat({draws, 1, 1}).requires_grad_();
    DirectOptions options;
    options.eps = eps;
    auto est = direct_pairwise_binary(hb, ab, f, options, {}, at::make_generator<at::CPUGeneratorImpl>(44));
    auto grads = torch::autograd::grad({est.surrogate}, {hb, ab});
    at::Tensor each = at::cat({grads[0], grads[1].flatten(1)}, 1);  // (draws, n + n^2)
    at::Tensor mean = at::cat({each.narrow(1, 0, n).mean(0), each.narrow(1, n, n * n).mean(0)});
    error.push_back(((mean - reference).norm() / reference.norm()).item<double>());
    variance.push_back(each.var(0).sum().item<double>());
  }
  // Measured: relative errors 0.94, 0.31, 0.073 (bias O(eps)); variances 0.49, 3.0, 16.5.
  const std::string measured = "errors " + std::to_string(error[0]) + " " + std::to_string(error[1]) + " " +
                               std::to_string(error[2]);
  EXPECT_GT(error[0], error[1]) << measured;
  EXPECT_GT(error[1], error[2]) << measured;
  EXPECT_LT(error[2], 0.1) << measured;
  EXPECT_LT(variance[0], variance[1]);
  EXPECT_LT(variance[1], variance[2]);
}

TEST(DirectPairwiseBinary, EverySolverGivesTheSameEstimate) {
  // The same noise must give the same z* and z*(eps) whichever exact solver finds them.
  const int64_t batch = 40, n = 8;
  at::Tensor h = fixed_tensor({batch, n}, 45).requires_grad_();
  LossFn f = quadratic_loss(fixed_tensor({n}, 46), fixed_tensor({n}, 47));
  for (bool supermodular : {true, false}) {
    at::Tensor a = symmetric_pairs({batch}, n, 48, supermodular).requires_grad_();
    DirectOptions options;
    options.eps = 0.5;
    options.argmax = "flip";
    std::vector<std::vector<at::Tensor>> gradients;
    for (const char* solver : {"enumeration", supermodular ? "max_flow" : "integer_program"}) {
      PairwiseDirectOptions pairwise;
      pairwise.pairwise_noise = !supermodular;  // pairwise noise could make a supermodular a negative
      pairwise.map.solver = solver;
      auto est = direct_pairwise_binary(h, a, f, options, pairwise, at::make_generator<at::CPUGeneratorImpl>(49));
      gradients.push_back(torch::autograd::grad({est.surrogate}, {h, a}));
    }
    EXPECT_TRUE(at::equal(gradients[0][0], gradients[1][0])) << supermodular;
    EXPECT_TRUE(at::equal(gradients[0][1], gradients[1][1])) << supermodular;
    EXPECT_GT(gradients[0][0].abs().sum().item<double>(), 0);
  }
}

TEST(DirectPairwiseBinary, FlipLinearAndEnumerateAgreeOnALinearLoss) {
  at::Tensor h = fixed_tensor({10, 5}, 50).requires_grad_();
  at::Tensor a = symmetric_pairs({10}, 5, 51, false).requires_grad_();
  at::Tensor costs = fixed_tensor({10, 5}, 52);
  LossFn f = [&](const at::Tensor& z) { return (z * costs).sum(-1); };
  std::vector<std::vector<at::Tensor>> gradients;
  for (const char* argmax : {"enumerate", "linear", "flip"}) {
    DirectOptions options;
    options.eps = 0.8;
    options.argmax = argmax;
    options.costs = costs;
    auto est = direct_pairwise_binary(h, a, f, options, {}, at::make_generator<at::CPUGeneratorImpl>(53));
    gradients.push_back(torch::autograd::grad({est.surrogate}, {h, a}));
  }
  for (int i : {1, 2}) {
    EXPECT_TRUE(at::allclose(gradients[0][0], gradients[i][0])) << i;
    EXPECT_TRUE(at::allclose(gradients[0][1], gradients[i][1])) << i;
  }
}

TEST(DirectPairwiseBinary, WithoutInteractionsItIsTheBernoulliEstimate) {
  // a = 0 and no pairwise noise leave independent logistic choices: bernoulli's direct, draw for draw.
  at::Tensor h = fixed_tensor({12, 6}, 54).requires_grad_();
  LossFn f = quadratic_loss(fixed_tensor({6}, 55), fixed_tensor({6}, 56));
  DirectOptions options;
  options.eps = 0.3;
  options.argmax = "flip";
  PairwiseDirectOptions pairwise;
  pairwise.pairwise_noise = false;
  at::Tensor a = at::zeros({12, 6, 6}, at::kDouble);
  auto structured = direct_pairwise_binary(h, a, f, options, pairwise, at::make_generator<at::CPUGeneratorImpl>(57));
  auto independent = direct(bernoulli::family(), h, f, options, at::make_generator<at::CPUGeneratorImpl>(57));
  EXPECT_TRUE(at::allclose(gradient_of(structured, h), gradient_of(independent, h)));
  EXPECT_TRUE(at::allclose(structured.loss, independent.loss));
}

TEST(DirectPairwiseBinary, LabelsTakeThePlaceOfTheAugmentedArgmax) {
  const int64_t batch = 6, n = 5;
  at::Tensor h = fixed_tensor({batch, n}, 58).requires_grad_();
  at::Tensor a = symmetric_pairs({batch}, n, 59, false).requires_grad_();
  LossFn f = quadratic_loss(fixed_tensor({n}, 60), fixed_tensor({n}, 61));
  DirectOptions options;
  options.eps = -0.5;
  options.labels = at::randint(0, 2, {batch, n}, at::make_generator<at::CPUGeneratorImpl>(62), at::kDouble);
  options.labelled = at::tensor({1, 0, 1, 0, 1, 0}).to(at::kBool);
  auto est = direct_pairwise_binary(h, a, f, options, {}, at::make_generator<at::CPUGeneratorImpl>(63));
  auto grads = torch::autograd::grad({est.surrogate}, {h, a});
  auto p = pairwise_binary::perturb(h.detach(), a.detach(), true, at::make_generator<at::CPUGeneratorImpl>(63));
  at::Tensor z = pairwise_binary::map(p.h, p.a);
  at::Tensor rows = at::tensor({0, 2, 4});
  EXPECT_TRUE(at::allclose(grads[0].index_select(0, rows), ((z - options.labels) / 0.5).index_select(0, rows)));
  at::Tensor label_pairs = (options.labels.unsqueeze(-1) * options.labels.unsqueeze(-2)).triu(1);
  at::Tensor map_pairs = (z.unsqueeze(-1) * z.unsqueeze(-2)).triu(1);
  EXPECT_TRUE(at::allclose(grads[1].index_select(0, rows), ((map_pairs - label_pairs) / 0.5).index_select(0, rows)));
}

TEST(DirectPairwiseBinary, BadInput) {
  at::Tensor h = fixed_tensor({3, 4}, 64), a = symmetric_pairs({3}, 4, 65, false);
  LossFn f = [](const at::Tensor& z) { return z.sum(-1); };
  DirectOptions zero;
  zero.eps = 0;
  EXPECT_THROW(direct_pairwise_binary(h, a, f, zero), c10::ValueError);
  EXPECT_THROW(direct_pairwise_binary(h, a, [](const at::Tensor& z) { return z; }, {}), c10::ValueError);
  EXPECT_THROW(direct_pairwise_binary(h, a.narrow(-1, 0, 3), f, {}), c10::ValueError);
  PairwiseDirectOptions max_flow;
  max_flow.map.solver = "max_flow";
  try {
    direct_pairwise_binary(h, a, f, {}, max_flow);
    ADD_FAILURE() << "max_flow accepted negative interactions";
  } catch (const c10::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("supermodular"), std::string::npos) << e.what();
  }
  DirectOptions enumerate_large;
  EXPECT_THROW(direct_pairwise_binary(fixed_tensor({1, 17}, 66), symmetric_pairs({1}, 17, 67, false), f, enumerate_large),
               c10::ValueError);
  DirectOptions wrong_costs;
  wrong_costs.argmax = "linear";
  wrong_costs.costs = at::zeros({3, 5}, at::kDouble);
  EXPECT_THROW(direct_pairwise_binary(h, a, f, wrong_costs), c10::ValueError);
  DirectOptions wrong_labels;
  wrong_labels.labels = at::zeros({3, 5}, at::kDouble);
  wrong_labels.labelled = at::ones({3}, at::kBool);
  EXPECT_THROW(direct_pairwise_binary(h, a, f, wrong_labels), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::estimators
