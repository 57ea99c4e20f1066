#include "structgrad/distributions/igr.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "structgrad/distributions/kl.h"
#include "structgrad/testing/testing.h"

namespace structgrad::distributions {
namespace {

using testing::seeded;

constexpr int64_t kDim = 4;

struct Variant {
  std::string name;
  std::function<std::unique_ptr<InvertibleGaussian>(at::Tensor loc, at::Tensor scale, double temperature)> make;
};

// The three variants on (batch, kDim) parameters; the planar flow and rho are fixed per variant.
std::vector<Variant> variants() {
  at::Tensor u = at::randn({2, kDim}, seeded(100), at::kDouble), w = at::randn({2, kDim}, seeded(101), at::kDouble);
  at::Tensor b = at::randn({2}, seeded(102), at::kDouble);
  return {
      {"IGR", [](at::Tensor loc, at::Tensor scale, double tau) { return std::make_unique<IGR>(loc, scale, tau); }},
      {"IGRPlanar",
       [=](at::Tensor loc, at::Tensor scale, double tau) { return std::make_unique<IGRPlanar>(loc, scale, u, w, b, tau); }},
      {"IGRStickBreaking",
       [](at::Tensor loc, at::Tensor scale, double tau) {
         return std::make_unique<IGRStickBreaking>(loc, scale, tau, 0.1, /*rho=*/0.8);
       }},
  };
}

at::Tensor random_loc(uint64_t seed, int64_t batch = 2) { return at::randn({batch, kDim}, seeded(seed), at::kDouble); }
at::Tensor random_scale(uint64_t seed, int64_t batch = 2) {
  return at::rand({batch, kDim}, seeded(seed), at::kDouble) + 0.5;
}

TEST(Igr, SoftmaxPlusPlusIsEquation21) {
  at::Tensor x = at::randn({3, 5}, seeded(1), at::kDouble);
  at::Tensor z = log_softmax_pp(x, 0.3).exp();
  at::Tensor denominator = x.exp().sum(-1, true) + 0.3;
  EXPECT_TRUE(at::allclose(z.narrow(-1, 0, 5), x.exp() / denominator));
  EXPECT_TRUE(at::allclose(z.select(-1, 5), 0.3 / denominator.squeeze(-1)));
}

// Eq. 18 evaluated independently: log N(y) - log |det J| with J by central differences of
// y -> z_{1:K-1}, for every draw (the leading (K-1) x (K-1) block under truncation).
TEST(Igr, LogProbIsTheChangeOfVariablesWithAFiniteDifferenceJacobian) {
  for (const auto& variant : variants()) {
    at::Tensor loc = random_loc(2), scale = random_scale(3);
    auto q = variant.make(loc, scale, 0.7);
    IGRSample s = q->rsample_with_log_prob({3}, seeded(4));
    const double step = 1e-6;
    at::Tensor jacobian = at::zeros({3, 2, kDim, kDim}, at::kDouble);
    for (int64_t j = 0; j < kDim; ++j) {
      at::Tensor plus = s.latent.clone(), minus = s.latent.clone();
      plus.select(-1, j) += step;
      minus.select(-1, j) -= step;
      IGRSample zp = q->transform(plus), zm = q->transform(minus);
      ASSERT_TRUE(at::equal(zp.num_categories, s.num_categories) && at::equal(zm.num_categories, s.num_categories));
      at::Tensor difference = at::constant_pad_nd(zp.z - zm.z, {0, kDim + 1 - zp.z.size(-1)});
      jacobian.select(-1, j).copy_(difference.narrow(-1, 0, kDim) / (2 * step));
    }
    at::Tensor from_value = q->log_prob(s.z, s.num_categories);
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t r = 0; r < 2; ++r) {
        const int64_t used = s.num_categories[i][r].item<int64_t>() - 1;
        at::Tensor y = s.latent[i][r].narrow(0, 0, used);
        at::Tensor mu = loc[r].narrow(0, 0, used), sigma = scale[r].narrow(0, 0, used);
        const double log_gaussian =
            (-0.5 * ((y - mu) / sigma).square() - sigma.log() - 0.5 * std::log(2 * M_PI)).sum().item<double>();
        at::Tensor block = jacobian[i][r].narrow(0, 0, used).narrow(1, 0, used);
        const double expected = log_gaussian - std::get<1>(at::linalg_slogdet(block)).item<double>();
        EXPECT_NEAR(s.log_prob[i][r].item<double>(), expected, 1e-5 * (1 + std::abs(expected))) << variant.name;
        EXPECT_NEAR(from_value[i][r].item<double>(), expected, 1e-5 * (1 + std::abs(expected))) << variant.name;
      }
    }
  }
}

TEST(Igr, SamplesLieOnTheSimplex) {
  for (const auto& variant : variants()) {
    auto q = variant.make(random_loc(5, 3), random_scale(6, 3), 0.3);
    IGRSample s = q->rsample_with_log_prob({50}, seeded(7));
    EXPECT_TRUE(at::allclose(s.z.sum(-1), at::ones({50, 3}, at::kDouble))) << variant.name;
    EXPECT_TRUE((s.z >= 0).all().item<bool>()) << variant.name;
    at::Tensor inside = at::arange(s.z.size(-1)) < s.num_categories.unsqueeze(-1);
    EXPECT_TRUE(at::equal(s.z > 0, inside)) << variant.name << ": positive exactly on its K categories";
    EXPECT_TRUE(at::isfinite(s.log_prob).all().item<bool>()) << variant.name;
    EXPECT_EQ(q->rsample({7}, seeded(8)).size(0), 7);
  }
}

TEST(Igr, RsamplePassesGradcheck) {
  for (const auto& variant : variants()) {
    at::Tensor parameters = at::stack({random_loc(9), random_scale(10)});
    auto rsample = [&](const at::Tensor& p) { return variant.make(p[0], p[1], 0.6)->rsample({2}, seeded(11)); };
    EXPECT_LT(testing::gradcheck_error(rsample, parameters), 1e-6) << variant.name;
    auto log_prob = [&](const at::Tensor& p) {
      return variant.make(p[0], p[1], 0.6)->rsample_with_log_prob({2}, seeded(11)).log_prob;
    };
    EXPECT_LT(testing::gradcheck_error(log_prob, parameters), 1e-5) << variant.name;
  }
}

// log_prob inverts the flow numerically; its gradient in the flow comes from one Newton step.
TEST(IgrPlanar, LogProbOfAFixedPointIsDifferentiableInTheFlow) {
  at::Tensor loc = random_loc(12), scale = random_scale(13);
  at::Tensor b = at::randn({3}, seeded(14), at::kDouble);
  at::Tensor flow = at::randn({2, 3, kDim}, seeded(15), at::kDouble);
  at::Tensor z = IGR(loc, scale, 0.5).rsample({2}, seeded(16));
  auto log_prob = [&](const at::Tensor& uw) { return IGRPlanar(loc, scale, uw[0], uw[1], b, 0.5).log_prob(z); };
  EXPECT_TRUE(at::isfinite(log_prob(flow)).all().item<bool>());
  EXPECT_LT(testing::gradcheck_error(log_prob, flow), 1e-5);
}

TEST(Igr, LogProbIsMinusInfinityOutsideTheSupport) {
  IGR q(random_loc(17), random_scale(18), 0.5);
  at::Tensor z = q.rsample({}, seeded(19));
  at::Tensor not_normalized = z * 1.5;
  at::Tensor on_boundary = z.clone();
  on_boundary.select(-1, 0).zero_();
  for (const auto& value : {not_normalized, on_boundary})
    EXPECT_TRUE((q.log_prob(value) == -INFINITY).all().item<bool>());
  IGRStickBreaking sb(random_loc(17), random_scale(18), 0.5, 0.1, 0.8);
  IGRSample s = sb.rsample_with_log_prob({20}, seeded(20));
  // The same points read with one category fewer are not draws of this truncation.
  at::Tensor fewer = s.num_categories - 1, testable = fewer >= 2;
  ASSERT_TRUE(testable.any().item<bool>());
  at::Tensor log_p = sb.log_prob(s.z, at::where(testable, fewer, s.num_categories));
  EXPECT_TRUE((log_p.masked_select(testable) == -INFINITY).all().item<bool>());
}

// Eq. 19 against the Monte Carlo KL of the densities: within 4 standard errors per instance.
TEST(Igr, ClosedFormKlMatchesMonteCarlo) {
  for (const auto& variant : variants()) {
    if (variant.name == "IGRStickBreaking") continue;  // truncated: see the next test
    auto q = variant.make(random_loc(21, 3), random_scale(22, 3), 0.4);
    auto p = variant.make(random_loc(23, 3), random_scale(24, 3), 0.4);
    at::Tensor closed = kl_divergence(*q, *p);
    MonteCarloEstimate mc = monte_carlo_kl(*q, *p, 20000, seeded(25));
    EXPECT_TRUE(((mc.estimate - closed).abs() < 4 * mc.standard_error).all().item<bool>())
        << variant.name << ": closed " << closed << " Monte Carlo " << mc.estimate << " +- " << mc.standard_error;
  }
}

// Under truncation the KL of the draws is E_q[sum over the K - 1 sticks used of the coordinate
// KLs] (the truncation decision for stick k depends on the earlier sticks only): the paired
// difference with the density ratio has mean zero, and the untruncated closed form bounds it.
TEST(IgrStickBreaking, TruncatedKlIsTheGaussianKlOfTheSticksUsed) {
  at::Tensor loc_q = random_loc(26, 3), scale_q = random_scale(27, 3);
  at::Tensor loc_p = random_loc(28, 3), scale_p = random_scale(29, 3);
  IGRStickBreaking q(loc_q, scale_q, 0.4, 0.1, 0.8), p(loc_p, scale_p, 0.4, 0.1, 0.8);
  IGRSample s = q.rsample_with_log_prob({20000}, seeded(30));
  at::Tensor log_ratio = s.log_prob - p.log_prob_log_space(s.log_z, s.num_categories);
  at::Tensor ratio = scale_q / scale_p;
  at::Tensor coordinate_kl = 0.5 * (ratio.square() + ((loc_q - loc_p) / scale_p).square() - 1) - ratio.log();
  at::Tensor used = at::arange(kDim) < (s.num_categories - 1).unsqueeze(-1);
  at::Tensor sticks_kl = (coordinate_kl * used).sum(-1);
  at::Tensor difference = log_ratio - sticks_kl;
  at::Tensor standard_error = difference.std(0) / std::sqrt(20000.0);
  EXPECT_TRUE((difference.mean(0).abs() < 4 * standard_error).all().item<bool>());
  EXPECT_TRUE((log_ratio.mean(0) <= kl_divergence(q, p)).all().item<bool>());
}

TEST(IgrStickBreaking, TruncationLeavesLessThanOneMinusRhoBeyondK) {
  const double rho = 0.95;
  at::Tensor loc = at::randn({2, 60}, seeded(31), at::kDouble) - 1.5;
  IGRStickBreaking q(loc, at::ones_like(loc), 0.2, 0.1, rho);
  IGRSample s = q.rsample_with_log_prob({500}, seeded(32));
  at::Tensor log_stay = at::log_sigmoid(-s.latent);
  at::Tensor sticks = s.num_categories - 1;
  at::Tensor left_after = (log_stay * (at::arange(60) < sticks.unsqueeze(-1))).sum(-1).exp();
  at::Tensor left_before = (log_stay * (at::arange(60) < (sticks - 1).unsqueeze(-1))).sum(-1).exp();
  EXPECT_TRUE((left_after < 1 - rho).all().item<bool>());
  EXPECT_TRUE((left_before >= 1 - rho).all().item<bool>()) << "K is the smallest such";
  EXPECT_GT(s.num_categories.max().item<int64_t>(), s.num_categories.min().item<int64_t>()) << "K follows the draw";
  EXPECT_LT(s.num_categories.max().item<int64_t>(), 61) << "the truncation, not the parameters, stopped";
  EXPECT_EQ(s.z.size(-1), s.num_categories.max().item<int64_t>());
  EXPECT_TRUE(at::allclose(s.z.sum(-1), at::ones({500, 2}, at::kDouble)));
}

TEST(Igr, HardIsOneHotForwardAndRelaxedBackward) {
  at::Tensor loc = random_loc(33).requires_grad_(true);
  IGR q(loc, random_scale(34), 0.5);
  at::Tensor weights = at::randn({kDim + 1}, seeded(35), at::kDouble);
  at::Tensor x = q.rsample({4}, seeded(36), /*hard=*/true);
  at::Tensor z = q.rsample({4}, seeded(36));
  EXPECT_TRUE(at::equal(x, at::one_hot(z.argmax(-1), kDim + 1).to(at::kDouble)));
  auto grad = [&](const at::Tensor& t) { return torch::autograd::grad({(t * weights).sum()}, {loc})[0]; };
  EXPECT_TRUE(at::allclose(grad(x), grad(z)));
}

// tau = 0.01 and locations of +-1e3: z rounds to a vertex, yet sample, density, KL estimates
// and gradients stay finite because everything runs on log z.
TEST(Igr, LowTemperatureAndLargeLocationsStayFinite) {
  for (const auto& variant : variants()) {
    at::Tensor loc = (at::randn({8, kDim}, seeded(37), at::kDouble) * 1e3).requires_grad_(true);
    at::Tensor scale = (at::rand({8, kDim}, seeded(38), at::kDouble) + 0.5).requires_grad_(true);
    auto q = variant.make(loc, scale, 0.01);
    IGRSample s = q->rsample_with_log_prob({3}, seeded(39));
    (s.log_prob.sum() + s.z.square().sum()).backward();
    for (const auto& t : {s.z, s.log_z.masked_fill(s.z == 0, 0), s.log_prob, loc.grad(), scale.grad()})
      EXPECT_TRUE(at::isfinite(t).all().item<bool>()) << variant.name;
    at::Tensor again = q->log_prob_log_space(s.log_z, s.num_categories);
    if (variant.name == "IGRStickBreaking") {
      // Sticks whose sigmoid saturates at these locations cannot be inverted from z: -inf there,
      // never a finite value other than the draw's own log-probability.
      at::Tensor finite = at::isfinite(again);
      EXPECT_TRUE((again == -INFINITY).logical_or(finite).all().item<bool>()) << variant.name;
      EXPECT_TRUE(at::allclose(again.masked_select(finite), s.log_prob.detach().masked_select(finite), 1e-6, 1e-6))
          << variant.name;
    } else {
      EXPECT_TRUE(at::isfinite(again).all().item<bool>()) << variant.name;
    }
    auto p = variant.make(loc.detach() + 1, scale.detach(), 0.01);
    MonteCarloEstimate mc = monte_carlo_kl(*q, *p, 2000, seeded(40));
    EXPECT_TRUE(at::isfinite(mc.estimate).all().item<bool>()) << variant.name;
    if (variant.name != "IGRStickBreaking") {
      at::Tensor closed = kl_divergence(*q, *p);
      EXPECT_TRUE(((mc.estimate - closed).abs() <= 4 * mc.standard_error + 1e-9).all().item<bool>()) << variant.name;
    }
  }
}

TEST(IgrExpConcrete, MonteCarloKlIsFiniteAtLowTemperatureAndLargeLogits) {
  at::Tensor logits_q = at::randn({8, 10}, seeded(41), at::kDouble) * 1e3;
  at::Tensor logits_p = at::randn({8, 10}, seeded(42), at::kDouble) * 1e3;
  MonteCarloEstimate kl = monte_carlo_kl(ExpConcrete(logits_q, 0.01), ExpConcrete(logits_p, 0.01), 200, seeded(43));
  EXPECT_TRUE(at::isfinite(kl.estimate).all().item<bool>() && at::isfinite(kl.standard_error).all().item<bool>());
  MonteCarloEstimate self = monte_carlo_kl(ExpConcrete(logits_q, 0.01), ExpConcrete(logits_q, 0.01), 200, seeded(43));
  EXPECT_TRUE(at::equal(self.estimate, at::zeros({8}, at::kDouble)));
}

void expect_value_error(const std::function<void()>& call, const std::string& argument) {
  try {
    call();
    ADD_FAILURE() << "no error for " << argument;
  } catch (const c10::ValueError& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find(argument), std::string::npos) << e.what_without_backtrace();
  }
}

TEST(Igr, MonteCarloMeanHasTheStandardErrorOfTheMean) {
  MonteCarloEstimate mean = monte_carlo_mean(at::tensor({1.0, 2.0, 3.0, 4.0}, at::kDouble));
  EXPECT_DOUBLE_EQ(mean.estimate.item<double>(), 2.5);
  EXPECT_DOUBLE_EQ(mean.standard_error.item<double>(), std::sqrt(5.0 / 3.0) / 2);
}

TEST(Igr, BadInput) {
  at::Tensor loc = random_loc(44), scale = random_scale(45);
  at::Tensor u = at::zeros({1, kDim}, at::kDouble), b = at::zeros({1}, at::kDouble);
  expect_value_error([&] { IGR(loc, -scale, 0.5); }, "scale");
  expect_value_error([&] { IGR(loc, at::zeros_like(scale), 0.5); }, "scale");
  expect_value_error([&] { IGR(loc, scale, 0.0); }, "temperature");
  expect_value_error([&] { IGR(loc, scale, 0.5, -0.1); }, "delta");
  expect_value_error([&] { IGR(loc, scale.narrow(-1, 0, 3), 0.5); }, "loc and scale");
  expect_value_error([&] { IGR(loc.fill_(NAN), scale, 0.5); }, "loc");
  loc = random_loc(44);
  expect_value_error([&] { IGRStickBreaking(loc, scale, 0.5, 0.1, 1.0); }, "rho");
  expect_value_error([&] { IGRStickBreaking(loc, scale, 0.5, 0.1, 0.0); }, "rho");
  expect_value_error([&] { IGRPlanar(loc, scale, u, u.narrow(-1, 0, 3), b, 0.5); }, "u and w");
  expect_value_error([&] { IGRPlanar(loc, scale, u, u, at::zeros({2}, at::kDouble), 0.5); }, "b");
  expect_value_error([&] { IGR(loc, scale, 0.5).log_prob(at::full({2, kDim}, 0.2, at::kDouble)); }, "categories");
  expect_value_error([&] { kl_divergence(IGR(loc, scale, 0.5), IGR(loc, scale, 0.4)); }, "share");
  expect_value_error([&] { kl_divergence(IGR(loc, scale, 0.5), IGRStickBreaking(loc, scale, 0.5)); }, "share");
  at::Tensor three_loc = random_loc(46, 3), three_scale = random_scale(47, 3);
  expect_value_error([&] { kl_divergence(IGR(loc, scale, 0.5), IGR(three_loc, three_scale, 0.5)); },
                     "q.loc and p.loc");
  expect_value_error([&] { monte_carlo_kl(IGR(loc[0], scale[0], 0.5), IGR(loc, scale, 0.5), 10); },
                     "must broadcast to q's");
  expect_value_error([&] { IGR(loc, scale, 0.5).transform(three_loc); }, "y and loc");
  expect_value_error([&] { IGR(loc, scale, 0.5).log_prob(at::full({3, kDim + 1}, 0.2, at::kDouble)); },
                     "value and the batch");
  expect_value_error([&] { IGR(loc, scale, 0.5).mean_estimate(1); }, "num_samples");
  expect_value_error([&] { IGRPlanar(loc, scale, u, u, b, 0.5, 0.0); }, "delta");
  at::Tensor wide_u = u.unsqueeze(1).expand({1, 3, kDim}), wide_b = b.unsqueeze(1).expand({1, 3});
  expect_value_error([&] { IGRPlanar(loc, scale, wide_u, wide_u, wide_b, 0.5); }, "u and w, and loc");
  expect_value_error(
      [&] {
        IGRStickBreaking q(loc, scale, 0.5);
        q.log_prob(q.rsample(), at::full({2}, 9, at::kLong));
      },
      "num_categories");
}

}  // namespace
}  // namespace structgrad::distributions
