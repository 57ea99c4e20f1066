// The Gibbs verbs of every family that has them, against enumeration: exact samples (pooled
// chi-square over every structure), log-probabilities, entropy and KL.
#include "structgrad/structures/gibbs.h"

#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "structgrad/structures/arborescence.h"
#include "structgrad/structures/registry.h"
#include "structgrad/structures/spanning_tree.h"
#include "structgrad/testing/testing.h"

namespace structgrad {
namespace {

using testing::seeded;

struct Case {
  std::string family;
  FamilyParams params;
  int64_t n;
};

std::string describe(const Case& c, double scale) {
  std::string text = c.family + " n=" + std::to_string(c.n);
  for (const auto& [key, value] : c.params) text += " " + key + "=" + std::to_string(value);
  return text + " scale=" + std::to_string(scale);
}

// One instance of theta (the family's event shape for n), standard normal times scale;
// symmetric for the undirected families.
at::Tensor instance_scores(const Family& family, int64_t n, double scale, uint64_t seed) {
  at::Tensor theta = at::randn(family.event_shape(n), seeded(seed), at::kDouble) * scale;
  if (family.symmetric) theta = (theta + theta.transpose(-1, -2)) / std::sqrt(2.0);
  return theta;
}

// Each structure's index in `all` (N, *event), by its 0/1 pattern.
std::vector<int64_t> indices_in(const at::Tensor& samples, const at::Tensor& all) {
  auto key = [](const at::Tensor& x) {
    at::Tensor flat = x.reshape({x.size(0), -1}).to(at::kLong);
    std::vector<std::string> keys(flat.size(0));
    auto a = flat.accessor<int64_t, 2>();
    for (int64_t i = 0; i < flat.size(0); ++i)
      for (int64_t j = 0; j < flat.size(1); ++j) keys[i] += a[i][j] ? '1' : '0';
    return keys;
  };
  std::map<std::string, int64_t> index;
  const std::vector<std::string> all_keys = key(all);
  for (int64_t i = 0; i < static_cast<int64_t>(all_keys.size()); ++i) index[all_keys[i]] = i;
  std::vector<int64_t> out;
  for (const std::string& k : key(samples)) {
    auto it = index.find(k);
    out.push_back(it == index.end() ? -1 : it->second);
  }
  return out;
}

// Pearson's statistic with the cells of expected count below 5 pooled into one, and its
// degrees of freedom.
std::pair<double, int64_t> pooled_chi_square(const std::vector<int64_t>& counts, const at::Tensor& probability) {
  const int64_t total = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  auto p = probability.accessor<double, 1>();
  double statistic = 0, pooled_expected = 0, pooled_observed = 0;
  int64_t cells = 0;
  for (int64_t i = 0; i < static_cast<int64_t>(counts.size()); ++i) {
    const double expected = p[i] * total;
    if (expected < 5) {
      pooled_expected += expected;
      pooled_observed += counts[i];
      continue;
    }
    statistic += (counts[i] - expected) * (counts[i] - expected) / expected;
    ++cells;
  }
  if (pooled_expected > 0) {
    statistic += (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / pooled_expected;
    ++cells;
  }
  return {statistic, cells - 1};
}

// Draws `draws` Gibbs samples of one instance and tests them against exp(gibbs_log_prob) over
// every structure; returns the sampled indices.
std::vector<int64_t> expect_gibbs_law(const Family& family, const at::Tensor& theta, int64_t draws, uint64_t seed,
                                      const std::string& label,
                                      const std::function<at::Tensor(const at::Tensor&, at::Generator)>& sampler) {
  at::Tensor all = family.enumerate(theta);
  at::Tensor probability = family.gibbs_log_prob(theta, all).exp();
  EXPECT_NEAR(probability.sum().item<double>(), 1.0, 1e-9) << label;
  std::vector<int64_t> shape = {draws};
  for (int64_t s : theta.sizes()) shape.push_back(s);
  at::Tensor samples = sampler(theta.expand(shape), seeded(seed));
  std::vector<int64_t> index = indices_in(samples, all);
  std::vector<int64_t> counts(all.size(0), 0);
  for (int64_t i : index) {
    EXPECT_GE(i, 0) << label << ": a sample is not a structure of the family";
    if (i >= 0) ++counts[i];
  }
  auto [statistic, df] = pooled_chi_square(counts, probability);
  EXPECT_GT(df, 0) << label;
  EXPECT_LT(statistic, testing::chi_square_critical(std::max<int64_t>(df, 1), 1e-4)) << label << " (df " << df << ")";
  return index;
}

const std::vector<Case>& gibbs_cases() {
  static const std::vector<Case> cases = {
      {"spanning_tree", {}, 5},          {"arborescence", {{"root", 0}}, 4}, {"arborescence", {{"root", 2}}, 5},
      {"topk", {{"k", 3}}, 7},           {"correlated_topk", {{"k", 3}}, 7}, {"bernoulli", {}, 5},
      {"categorical", {}, 7},
  };
  return cases;
}

TEST(Gibbs, SamplesFollowTheGibbsLawOverEveryStructure) {
  uint64_t seed = 100;
  for (const Case& c : gibbs_cases()) {
    const Family family = structgrad::family(c.family, c.params);
    ASSERT_TRUE(family.has_gibbs()) << c.family;
    for (double scale : {1.0, 5.0}) {
      at::Tensor theta = instance_scores(family, c.n, scale, ++seed);
      expect_gibbs_law(family, theta, 20000, ++seed, describe(c, scale),
                       [&](const at::Tensor& t, at::Generator g) { return family.gibbs_sample(t, g); });
    }
  }
}

// Both tree samplers, forced, at both scales: "auto" picks one per instance, so each must be exact
// on its own.
TEST(Gibbs, WilsonAndSequentialTreeSamplersAreEachExact) {
  uint64_t seed = 300;
  for (const std::string sampler : {"wilson", "sequential"}) {
    for (double scale : {1.0, 5.0}) {
      const Family tree = spanning_tree::family();
      at::Tensor theta = instance_scores(tree, 5, scale, ++seed);
      expect_gibbs_law(tree, theta, 20000, ++seed, "spanning_tree " + sampler, [&](const at::Tensor& t, at::Generator g) {
        return spanning_tree::gibbs_sample(t, g, sampler);
      });
      const Family arborescence = arborescence::family(1);
      theta = instance_scores(arborescence, 5, scale, ++seed);
      expect_gibbs_law(arborescence, theta, 20000, ++seed, "arborescence " + sampler,
                       [&](const at::Tensor& t, at::Generator g) { return arborescence::gibbs_sample(t, 1, g, sampler); });
    }
  }
}

// Logits spread to +-50, with two heavy pairs of vertices (60 and 55) that trap Wilson's walks
// (a walk from one of a pair steps to the other with probability 1 - e^-50, whatever the root):
// "auto" must see that from theta and run the sequential sampler, which must finish, never draw a
// tree of probability below 1e-12, and match the likely trees' frequencies.
TEST(Gibbs, SpreadLogitsStayExact) {
  for (const std::string family_name : {"spanning_tree", "arborescence"}) {
    const Family family = structgrad::family(family_name);
    at::Tensor theta = (at::rand(family.event_shape(5), seeded(7), at::kDouble) * 100 - 50);
    for (auto [u, v, weight] : {std::tuple<int64_t, int64_t, double>{1, 2, 60.0}, {3, 4, 55.0}}) {
      theta.index_put_({u, v}, weight);
      theta.index_put_({v, u}, weight);
    }
    if (family.symmetric) theta = (theta + theta.t()) / 2;
    for (int64_t root = 0; root < (family.symmetric ? 5 : 1); ++root)
      EXPECT_GT(solvers::wilson_step_bound(theta.data_ptr<double>(), 5, root), 1e9) << family_name << " " << root;
    at::Tensor probability = family.gibbs_log_prob(theta, family.enumerate(theta)).exp();
    std::vector<int64_t> index = expect_gibbs_law(family, theta, 20000, 8, family_name + " spread",
                                                  [&](const at::Tensor& t, at::Generator g) {
                                                    return family.gibbs_sample(t, g);
                                                  });
    for (int64_t i : index) {
      if (i >= 0) {
        EXPECT_GE(probability[i].item<double>(), 1e-12) << family_name;
      }
    }
  }
}

// theta for a batch of instances, standard normal; symmetric for the undirected families.
at::Tensor batch_scores(const Family& family, int64_t batch, int64_t n, uint64_t seed) {
  std::vector<int64_t> shape = {batch};
  for (int64_t s : family.event_shape(n)) shape.push_back(s);
  at::Tensor theta = at::randn(shape, seeded(seed), at::kDouble);
  return family.symmetric ? (theta + theta.transpose(-1, -2)) / 2 : theta;
}

TEST(Gibbs, SamplesAreTheSameAtAnyThreadCountAndDtype) {
  for (const Case& c : gibbs_cases()) {
    const Family family = structgrad::family(c.family, c.params);
    at::Tensor theta = batch_scores(family, 64, c.n, 1);
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    at::Tensor one = family.gibbs_sample(theta, seeded(3));
    at::set_num_threads(2);
    at::Tensor two = family.gibbs_sample(theta, seeded(3));
    at::set_num_threads(threads);
    at::Tensor single = family.gibbs_sample(theta.to(at::kFloat), seeded(3));
    EXPECT_TRUE(at::equal(one, two)) << c.family;
    EXPECT_TRUE(at::equal(one, single.to(at::kDouble))) << c.family;
  }
}

TEST(Gibbs, EntropyAndKlMatchEnumeration) {
  uint64_t seed = 500;
  for (const Case& c : gibbs_cases()) {
    const Family family = structgrad::family(c.family, c.params);
    for (double scale : {1.0, 5.0}) {
      at::Tensor p = instance_scores(family, c.n, scale, ++seed);
      at::Tensor q = instance_scores(family, c.n, scale, ++seed);
      at::Tensor all = family.enumerate(p);
      at::Tensor log_p = family.gibbs_log_prob(p, all), log_q = family.gibbs_log_prob(q, all);
      const double entropy = -(log_p.exp() * log_p).sum().item<double>();
      const double kl = (log_p.exp() * (log_p - log_q)).sum().item<double>();
      EXPECT_NEAR(family.entropy(p).item<double>(), entropy, 1e-9) << describe(c, scale);
      EXPECT_NEAR(family.kl_divergence(p, q).item<double>(), kl, 1e-9) << describe(c, scale);
      EXPECT_NEAR(family.kl_divergence(p, p).item<double>(), 0.0, 1e-9) << describe(c, scale);
    }
  }
}

TEST(Gibbs, FiniteAtLogitsOfAThousand) {
  for (const Case& c : gibbs_cases()) {
    const Family family = structgrad::family(c.family, c.params);
    at::Tensor p = instance_scores(family, c.n, 1e3, 11).requires_grad_();
    at::Tensor q = instance_scores(family, c.n, 1e3, 12);
    at::Tensor x = family.gibbs_sample(p.detach(), seeded(13));
    at::Tensor total = family.entropy(p) + family.kl_divergence(p, q) + family.gibbs_log_prob(p, x);
    EXPECT_TRUE(std::isfinite(total.item<double>())) << c.family;
    total.backward();
    EXPECT_TRUE(at::isfinite(p.grad()).all().item<bool>()) << c.family;
  }
}

TEST(Gibbs, GradientsOfEntropyKlAndLogProbPassGradcheck) {
  for (const Case& c : gibbs_cases()) {
    const Family family = structgrad::family(c.family, c.params);
    at::Tensor p = batch_scores(family, 2, c.n, 21);
    at::Tensor q = p.flip(0) * 0.5;
    at::Tensor x = family.gibbs_sample(p, seeded(22));
    // Symmetric families take theta through a symmetric parameterization.
    auto symmetrize = [&](const at::Tensor& t) { return family.symmetric ? (t + t.transpose(-1, -2)) / 2 : t; };
    EXPECT_LT(testing::gradcheck_error([&](const at::Tensor& t) { return family.entropy(symmetrize(t)); }, p), 1e-6)
        << c.family;
    EXPECT_LT(testing::gradcheck_error([&](const at::Tensor& t) { return family.kl_divergence(symmetrize(t), q); }, p),
              1e-6)
        << c.family;
    EXPECT_LT(testing::gradcheck_error([&](const at::Tensor& t) { return family.kl_divergence(q, symmetrize(t)); }, p),
              1e-6)
        << c.family;
    EXPECT_LT(testing::gradcheck_error([&](const at::Tensor& t) { return family.gibbs_log_prob(symmetrize(t), x); }, p),
              1e-6)
        << c.family;
  }
}

TEST(Gibbs, AbsentEdgesCountAsAbsent) {
  // A 4-cycle with one chord missing: trees that use the missing edge have probability 0.
  at::Tensor theta = at::randn({4, 4}, seeded(31), at::kDouble);
  theta = (theta + theta.t()) / 2;
  theta.index_put_({0, 2}, -INFINITY);
  theta.index_put_({2, 0}, -INFINITY);
  const Family tree = spanning_tree::family();
  at::Tensor all = tree.enumerate(theta);
  at::Tensor log_p = tree.gibbs_log_prob(theta, all);
  at::Tensor uses_missing = all.select(-2, 0).select(-1, 2) == 1;
  EXPECT_TRUE(at::isneginf(log_p.masked_select(uses_missing)).all().item<bool>());
  EXPECT_NEAR(log_p.exp().sum().item<double>(), 1.0, 1e-12);
  const at::Tensor p = log_p.exp();
  EXPECT_NEAR(tree.entropy(theta).item<double>(),
              -(p * at::where(p > 0, log_p, at::zeros_like(log_p))).sum().item<double>(), 1e-9);
  // q forbids an edge that p uses: the divergence is infinite.
  at::Tensor full = at::zeros({4, 4}, at::kDouble);
  EXPECT_EQ(tree.kl_divergence(full, theta).item<double>(), INFINITY);
  EXPECT_TRUE(std::isfinite(tree.kl_divergence(theta, full).item<double>()));
  at::Tensor x = tree.gibbs_sample(theta.expand({200, 4, 4}), seeded(32));
  EXPECT_EQ(x.select(-2, 0).select(-1, 2).sum().item<double>(), 0);
}

// A 0/1 point that is no structure of the family has log-probability -inf, never a finite number.
TEST(Gibbs, PointsOutsideTheSupportHaveLogProbabilityMinusInfinity) {
  for (const Case& c : gibbs_cases()) {
    const Family family = structgrad::family(c.family, c.params);
    if (c.family == "bernoulli") continue;  // every 0/1 vector is a structure
    at::Tensor theta = instance_scores(family, c.n, 1.0, 51);
    at::Tensor all = family.enumerate(theta);
    // Every 0/1 point of a few random ones that enumerate does not list.
    at::Tensor points = at::bernoulli(at::full({200, theta.numel()}, 0.5, at::kDouble), seeded(52)).reshape(
        [&] {
          std::vector<int64_t> shape = {200};
          for (int64_t s : theta.sizes()) shape.push_back(s);
          return shape;
        }());
    if (family.symmetric) points = points.triu(1) + points.triu(1).transpose(-1, -2);
    std::vector<int64_t> index = indices_in(points, all);
    at::Tensor log_p = family.gibbs_log_prob(theta, points);
    int64_t outside = 0;
    for (int64_t i = 0; i < 200; ++i) {
      if (index[i] >= 0) {
        EXPECT_TRUE(std::isfinite(log_p[i].item<double>())) << c.family;
      } else {
        ++outside;
        EXPECT_EQ(log_p[i].item<double>(), -INFINITY) << c.family;
      }
    }
    EXPECT_GT(outside, 0) << c.family;
  }
  // n - 1 edges with a cycle, and an arborescence's edges with one reversed into a cycle.
  at::Tensor cycle = at::zeros({4, 4}, at::kDouble);
  for (auto [i, j] : {std::pair<int64_t, int64_t>{0, 1}, {1, 2}, {2, 0}}) {
    cycle.index_put_({i, j}, 1);
    cycle.index_put_({j, i}, 1);
  }
  EXPECT_EQ(spanning_tree::family().gibbs_log_prob(at::zeros({4, 4}, at::kDouble), cycle).item<double>(), -INFINITY);
  at::Tensor loop = at::zeros({4, 4}, at::kDouble);
  loop.index_put_({0, 1}, 1);
  loop.index_put_({2, 3}, 1);
  loop.index_put_({3, 2}, 1);
  EXPECT_EQ(arborescence::family(0).gibbs_log_prob(at::zeros({4, 4}, at::kDouble), loop).item<double>(), -INFINITY);
}

TEST(Gibbs, BadInputIsRefusedWithTheArgumentNamed) {
  auto message = [](const std::function<void()>& call) -> std::string {
    try {
      call();
    } catch (const c10::ValueError& e) {
      return e.what_without_backtrace();
    }
    return "no ValueError";
  };
  at::Tensor disconnected = at::full({4, 4}, -INFINITY, at::kDouble);
  disconnected.index_put_({0, 1}, 0.0);
  disconnected.index_put_({1, 0}, 0.0);
  disconnected.index_put_({2, 3}, 0.0);
  disconnected.index_put_({3, 2}, 0.0);
  EXPECT_NE(message([&] { spanning_tree::gibbs_sample(disconnected); }).find("disconnected"), std::string::npos);
  EXPECT_NE(message([&] { arborescence::gibbs_sample(disconnected, 0); }).find("cannot be reached"), std::string::npos);
  // An isolated vertex: no walk can leave it.
  at::Tensor isolated = at::zeros({4, 4}, at::kDouble);
  isolated.select(0, 3).fill_(-INFINITY);
  isolated.select(1, 3).fill_(-INFINITY);
  for (const std::string sampler : {"auto", "wilson", "sequential"}) {
    EXPECT_NE(message([&] { spanning_tree::gibbs_sample(isolated, c10::nullopt, sampler); }).find("disconnected"),
              std::string::npos)
        << sampler;
    EXPECT_NE(message([&] { arborescence::gibbs_sample(isolated, 0, c10::nullopt, sampler); }).find("reached"),
              std::string::npos)
        << sampler;
  }
  at::Tensor theta = at::zeros({4, 4}, at::kDouble);
  EXPECT_NE(message([&] { arborescence::gibbs_sample(theta, 4); }).find("root"), std::string::npos);
  EXPECT_NE(message([&] { spanning_tree::gibbs_sample(theta, c10::nullopt, "mcmc"); }).find("sampler"),
            std::string::npos);
  at::Tensor nan = theta.clone();
  nan.index_put_({1, 2}, NAN);
  nan.index_put_({2, 1}, NAN);
  EXPECT_NE(message([&] { spanning_tree::gibbs_sample(nan); }).find("NaN"), std::string::npos);
  const Family tree = spanning_tree::family();
  EXPECT_NE(message([&] { tree.entropy(nan); }).find("spanning_tree.entropy"), std::string::npos);
  EXPECT_NE(message([&] { tree.gibbs_log_prob(theta, at::full({4, 4}, 0.5, at::kDouble)); }).find("0/1"),
            std::string::npos);
  EXPECT_NE(message([&] { tree.gibbs_log_prob(theta, at::zeros({3, 3}, at::kDouble)); }).find("event shape"),
            std::string::npos);
  EXPECT_NE(message([&] { tree.kl_divergence(theta, at::zeros({5, 5}, at::kDouble)); }).find("one shape"),
            std::string::npos);
  at::Tensor spread = at::rand({6, 6}, seeded(41), at::kDouble) * 1000 - 500;
  spread = (spread + spread.t()) / 2;
  EXPECT_NE(message([&] { spanning_tree::gibbs_sample(spread, c10::nullopt, "wilson"); }).find("1e12"),
            std::string::npos);
  EXPECT_NE(message([&] { structgrad::family("ranking").entropy(at::zeros({3}, at::kDouble)); }).find("Gibbs"),
            std::string::npos);
}

}  // namespace
}  // namespace structgrad
