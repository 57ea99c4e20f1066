// The perturbations of spanning_tree and arborescence (seed 000's arborescence table): each law's
// samples against the MAP of theta plus that noise drawn here, independently, by a chi-square
// test of homogeneity on small instances; and the relaxations built on them.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "structgrad/structures/arborescence.h"
#include "structgrad/structures/graph.h"
#include "structgrad/structures/spanning_tree.h"
#include "structgrad/testing/testing.h"

namespace structgrad {
namespace {

using testing::seeded;

// theta perturbed by `perturbation` with noise drawn by torch here, not by graph::perturb_edges:
// one draw per undirected edge (the upper triangle's, mirrored) when symmetric.
at::Tensor reference_perturbation(const at::Tensor& theta, bool symmetric, const std::string& perturbation,
                                  at::Generator generator) {
  at::Tensor noise = at::empty(theta.sizes(), theta.options());
  if (perturbation == "gaussian")
    noise.normal_(0, 1, generator);
  else
    noise.exponential_(1, generator);
  // The diagonal keeps its own draws (no structure uses it), so that -log E stays finite there.
  if (symmetric) noise = noise.triu(1) + noise.triu(1).transpose(-1, -2) + at::diag_embed(noise.diagonal(0, -2, -1));
  if (perturbation == "gaussian") return theta + noise;
  if (perturbation == "gumbel") return theta - noise.log();
  return -(noise * at::exp(-theta));
}

// Pearson's chi-square test that two samples of structures (N, n, n) come from one law: the
// statistic and the 1e-3 critical value for (occupied cells - 1) degrees of freedom.
std::pair<double, double> homogeneity(const at::Tensor& a, const at::Tensor& b) {
  std::map<std::string, std::pair<int64_t, int64_t>> counts;
  auto count = [&](const at::Tensor& x, bool first) {
    const at::Tensor bytes = x.to(at::kByte).contiguous().flatten(1);
    for (int64_t s = 0; s < bytes.size(0); ++s) {
      const uint8_t* p = bytes[s].data_ptr<uint8_t>();
      auto& cell = counts[std::string(p, p + bytes.size(1))];
      (first ? cell.first : cell.second) += 1;
    }
  };
  count(a, true);
  count(b, false);
  const double na = double(a.size(0)), nb = double(b.size(0));
  double statistic = 0;
  for (const auto& [key, cell] : counts) {
    const double total = double(cell.first + cell.second);
    const double ea = total * na / (na + nb), eb = total * nb / (na + nb);
    statistic += (cell.first - ea) * (cell.first - ea) / ea + (cell.second - eb) * (cell.second - eb) / eb;
  }
  return {statistic, testing::chi_square_critical(int64_t(counts.size()) - 1, 1e-3)};
}

constexpr int64_t kDraws = 20000;
const char* const kPerturbations[] = {"gumbel", "gaussian", "negative_exponential"};

TEST(Perturbation, SpanningTreeSamplesAreTheMapOfThetaPlusTheNoise) {
  at::Tensor theta = at::randn({4, 4}, seeded(1), at::kDouble);
  theta = (theta + theta.t()) / 2;
  const at::Tensor batch = theta.expand({kDraws, 4, 4});
  for (const char* perturbation : kPerturbations) {
    at::Tensor drawn = spanning_tree::sample(batch, seeded(2), perturbation);
    at::Tensor reference = spanning_tree::map(reference_perturbation(batch, true, perturbation, seeded(3)));
    auto [statistic, critical] = homogeneity(drawn, reference);
    EXPECT_LT(statistic, critical) << perturbation;
  }
  // Kruskal reads only the order of the weights, and -E exp(-theta) orders the edges as
  // theta - log E does, on the same E: the same trees draw for draw.
  EXPECT_TRUE(at::equal(spanning_tree::sample(batch, seeded(4), "negative_exponential"),
                        spanning_tree::sample(batch, seeded(4), "gumbel")));
  // The test tells the laws apart: Gaussian noise gives another law than Gumbel's at this theta.
  auto [statistic, critical] = homogeneity(spanning_tree::sample(batch, seeded(5), "gaussian"),
                                           spanning_tree::sample(batch, seeded(6), "gumbel"));
  EXPECT_GT(statistic, critical);
}

TEST(Perturbation, ArborescenceSamplesAreTheMapOfThetaPlusTheNoise) {
  const int64_t root = 1;
  at::Tensor theta = at::randn({4, 4}, seeded(11), at::kDouble);
  const at::Tensor batch = theta.expand({kDraws, 4, 4});
  std::map<std::string, at::Tensor> drawn;
  for (const char* perturbation : kPerturbations) {
    drawn[perturbation] = arborescence::sample(batch, root, seeded(12), perturbation);
    at::Tensor reference =
        arborescence::map(reference_perturbation(batch, false, perturbation, seeded(13)), root);
    auto [statistic, critical] = homogeneity(drawn[perturbation], reference);
    EXPECT_LT(statistic, critical) << perturbation;
  }
  // Chu-Liu-Edmonds adds the weights, so the three laws differ ...
  for (auto [a, b] : {std::pair{"gumbel", "gaussian"}, std::pair{"gumbel", "negative_exponential"}}) {
    auto [statistic, critical] = homogeneity(drawn[a], drawn[b]);
    EXPECT_GT(statistic, critical) << a << " against " << b;
  }
  // ... and the negative exponential's is the law of seed 002's Exponential-Min trace.
  auto [statistic, critical] = homogeneity(drawn["negative_exponential"], arborescence::trace(batch, root, seeded(14)).structure);
  EXPECT_LT(statistic, critical);
}

TEST(Perturbation, RelaxationsAreDifferentiableAndHardIsTheSample) {
  at::Tensor directed = at::randn({2, 4, 4}, seeded(21), at::kDouble);
  at::Tensor symmetric = (directed + directed.transpose(-1, -2)) / 2;
  for (const char* perturbation : {"gaussian", "negative_exponential"}) {
    auto tree = [&](const at::Tensor& t) {
      return spanning_tree::relax((t + t.transpose(-1, -2)) / 2, 0.7, false, seeded(22), "custom", perturbation);
    };
    EXPECT_LT(testing::gradcheck_error(tree, symmetric), 1e-6) << perturbation;
    auto arborescence = [&](const at::Tensor& t) {
      return arborescence::relax(t, 0.7, 2, false, seeded(23), "custom", perturbation);
    };
    EXPECT_LT(testing::gradcheck_error(arborescence, directed), 1e-6) << perturbation;
    EXPECT_TRUE(at::equal(spanning_tree::relax(symmetric, 0.7, true, seeded(24), "custom", perturbation).detach(),
                          spanning_tree::sample(symmetric, seeded(24), perturbation)))
        << perturbation;
    EXPECT_TRUE(at::equal(arborescence::relax(directed, 0.7, 2, true, seeded(25), "custom", perturbation).detach(),
                          arborescence::sample(directed, 2, seeded(25), perturbation)))
        << perturbation;
    // The relaxation is the marginals at the perturbed scores / tau.
    at::Tensor perturbed = graph::perturb_edges("test", directed, false, perturbation, seeded(26));
    EXPECT_TRUE(at::allclose(arborescence::relax(directed, 0.7, 2, false, seeded(26), "custom", perturbation),
                             arborescence::marginals(perturbed / 0.7, 2), 0, 1e-12))
        << perturbation;
  }
}

TEST(Perturbation, AbsentEdgesKeepFiniteGradients) {
  // A path 0 - 1 - 2 - 3 plus the edge 0 - 3; the rest absent. Under the negative exponential an
  // absent edge's exp(-theta) is infinite: its gradient must be 0, not NaN.
  at::Tensor theta = at::full({4, 4}, -INFINITY, at::kDouble);
  for (auto [i, j] : {std::pair{0, 1}, std::pair{1, 2}, std::pair{2, 3}, std::pair{0, 3}}) theta[i][j] = theta[j][i] = 0.3 * (i + j);
  for (const char* perturbation : kPerturbations) {
    at::Tensor t = theta.clone().requires_grad_(true);
    at::Tensor y = spanning_tree::relax(t, 0.5, false, seeded(31), "custom", perturbation);
    (y * at::arange(16, at::kDouble).view({4, 4})).sum().backward();
    EXPECT_TRUE(at::isfinite(t.grad()).all().item<bool>()) << perturbation;
    EXPECT_EQ(y.masked_select(theta == -INFINITY).abs().max().item<double>(), 0.0) << perturbation;
    at::Tensor a = theta.clone().requires_grad_(true);
    at::Tensor z = arborescence::relax(a, 0.5, 0, false, seeded(32), "custom", perturbation);
    (z * at::arange(16, at::kDouble).view({4, 4})).sum().backward();
    EXPECT_TRUE(at::isfinite(a.grad()).all().item<bool>()) << perturbation;
  }
}

TEST(Perturbation, BadInput) {
  at::Tensor theta = at::zeros({2, 4, 4}, at::kDouble);
  EXPECT_THROW(spanning_tree::sample(theta, seeded(1), "logistic"), c10::ValueError);
  EXPECT_THROW(spanning_tree::relax(theta, 1.0, false, seeded(1), "custom", "Gumbel"), c10::ValueError);
  EXPECT_THROW(arborescence::sample(theta, 0, seeded(1), ""), c10::ValueError);
  EXPECT_THROW(arborescence::family_with_perturbation(0, "uniform"), c10::ValueError);
  // The negative exponential's utilities leave the dtype's range: refused, in float64 above 700
  // and in float32 above 80; -inf (absent) and the diagonal do not count.
  at::Tensor large = theta.clone();
  large[0][1][2] = 701;
  EXPECT_THROW(arborescence::sample(large, 0, seeded(1), "negative_exponential"), c10::ValueError);
  EXPECT_NO_THROW(arborescence::sample(large, 0, seeded(1), "gaussian"));
  EXPECT_THROW(arborescence::relax(large.to(at::kFloat) / 8, 1.0, 0, false, seeded(1), "custom", "negative_exponential"),
               c10::ValueError);
  at::Tensor diagonal = theta.clone();
  diagonal[0][2][2] = 1e6;
  diagonal[1][3][1] = -INFINITY;
  EXPECT_NO_THROW(arborescence::sample(diagonal, 0, seeded(1), "negative_exponential"));
}

}  // namespace
}  // namespace structgrad
