#include "structgrad/structures/relaxation.h"

#include <gtest/gtest.h>

#include "structgrad/structures/arborescence.h"
#include "structgrad/structures/categorical.h"
#include "structgrad/structures/family.h"
#include "structgrad/structures/permutation.h"
#include "structgrad/structures/registry.h"
#include "structgrad/testing/testing.h"

namespace structgrad {
namespace {

using testing::seeded;

// Random theta of a family's event shape; symmetric for spanning trees.
at::Tensor random_theta(const std::string& name, int64_t batch, int64_t n, uint64_t seed) {
  if (name == "categorical" || name == "topk") return at::randn({batch, n}, seeded(seed), at::kDouble);
  at::Tensor t = at::randn({batch, n, n}, seeded(seed), at::kDouble);
  return name == "spanning_tree" ? (t + t.transpose(-1, -2)) / 2 : t;
}

// theta.grad of <g, relax(theta)> under the given backward, the noise fixed by the seed.
at::Tensor relax_gradient(const std::function<at::Tensor(const at::Tensor&, const std::string&)>& relax,
                          const at::Tensor& theta, const at::Tensor& g, const std::string& backward) {
  at::Tensor x = theta.clone().requires_grad_(true);
  (relax(x, backward) * g).sum().backward();
  return x.grad();
}

double relative_error(const at::Tensor& a, const at::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

struct RelaxationCase {
  std::string family, regularizer;
};

TEST(Relaxation, FiniteDifferenceBackwardAgreesWithTheCustomOneForEveryFamily) {
  const std::vector<RelaxationCase> cases = {{"categorical", "entropy"},       {"categorical", "euclidean"},
                                   {"topk", "exponential_family"},   {"topk", "euclidean"},
                                   {"topk", "categorical_entropy"},  {"topk", "binary_entropy"},
                                   {"spanning_tree", ""},            {"arborescence", ""}};
  uint64_t seed = 10;
  for (const auto& c : cases) {
    FamilyParams parameters;
    if (c.family == "topk") parameters["k"] = 3;
    if (c.family == "arborescence") parameters["root"] = 1;
    const Family f = family(c.family, parameters);
    for (bool hard : {false, true}) {
      at::Tensor theta = random_theta(c.family, 4, 6, ++seed);
      at::Tensor g = at::randn(theta.sizes(), seeded(++seed), at::kDouble);
      const uint64_t noise_seed = ++seed;
      auto relax = [&](const at::Tensor& t, const std::string& backward) {
        return f.relax(t, RelaxOptions{2.0, c.regularizer, hard, backward}, seeded(noise_seed));
      };
      at::Tensor custom = relax_gradient(relax, theta, g, "custom");
      at::Tensor fd = relax_gradient(relax, theta, g, "finite_difference");
      ASSERT_GT(custom.abs().max().item<double>(), 1e-3) << c.family << " " << c.regularizer;
      EXPECT_LT(relative_error(fd, custom), 1e-6) << c.family << " " << c.regularizer << " hard " << hard;
      // The family's default is the custom backward.
      EXPECT_TRUE(at::allclose(relax_gradient(relax, theta, g, ""), custom, 0, 0)) << c.family;
    }
  }
}

TEST(Relaxation, PermutationFiniteDifferenceAgreesWithImplicitOnceConverged) {
  at::Tensor theta = at::randn({3, 5, 5}, seeded(30), at::kDouble);
  at::Tensor g = at::randn({3, 5, 5}, seeded(31), at::kDouble);
  auto relax = [](const at::Tensor& t, const std::string& backward) {
    return permutation::relax(t, 0.7, 300, 0, backward, false, seeded(32));
  };
  at::Tensor implicit = relax_gradient(relax, theta, g, "implicit");
  EXPECT_LT(relative_error(relax_gradient(relax, theta, g, "finite_difference"), implicit), 1e-6);
  EXPECT_LT(relative_error(relax_gradient(relax, theta, g, "unroll"), implicit), 1e-6);
  auto gradcheck_fn = [](const at::Tensor& t) {
    return permutation::relax(t, 0.7, 300, 0, "finite_difference", false, seeded(32));
  };
  EXPECT_LT(testing::gradcheck_error(gradcheck_fn, theta[0]), 1e-6);
}

// topk's entropies have an iterative forward: "unroll" (autograd through Newton steps from the
// root) equals the custom backward to rounding, and both equal finite differences to theirs.
TEST(Relaxation, TopkUnrollAgreesWithCustomAndFiniteDifference) {
  const Family f = family("topk", {{"k", 3}});
  double worst_unroll = 0, worst_fd = 0;
  uint64_t seed = 40;
  for (const char* regularizer : {"categorical_entropy", "binary_entropy"})
    for (double tau : {0.3, 2.0})
      for (bool hard : {false, true}) {
        at::Tensor theta = random_theta("topk", 6, 7, ++seed);
        at::Tensor g = at::randn(theta.sizes(), seeded(++seed), at::kDouble);
        const uint64_t noise_seed = ++seed;
        auto relax = [&](const at::Tensor& t, const std::string& backward) {
          return f.relax(t, RelaxOptions{tau, regularizer, hard, backward}, seeded(noise_seed));
        };
        at::Tensor custom = relax_gradient(relax, theta, g, "custom");
        at::Tensor unroll = relax_gradient(relax, theta, g, "unroll");
        at::Tensor fd = relax_gradient(relax, theta, g, "finite_difference");
        ASSERT_GT(custom.abs().max().item<double>(), 1e-3) << regularizer;
        worst_unroll = std::max(worst_unroll, relative_error(unroll, custom));
        worst_fd = std::max(worst_fd, std::max(relative_error(fd, custom), relative_error(fd, unroll)));
        EXPECT_LT(relative_error(unroll, custom), 1e-12) << regularizer << " tau " << tau << " hard " << hard;
        EXPECT_LT(relative_error(fd, unroll), 1e-6) << regularizer << " tau " << tau << " hard " << hard;
        EXPECT_TRUE(at::allclose(relax(theta, "unroll"), relax(theta, "custom"), 0, 1e-12)) << regularizer;
      }
  RecordProperty("max_unroll_vs_custom", (::testing::Message() << worst_unroll).GetString());
  RecordProperty("max_finite_difference", (::testing::Message() << worst_fd).GetString());
}

TEST(Relaxation, BadBackwardNamesTheArgument) {
  at::Tensor v = at::zeros({2, 4}, at::kDouble), m = at::zeros({2, 4, 4}, at::kDouble);
  for (const char* bad : {"unroll", "implicit", "fd", ""}) {
    try {
      categorical::relax(v, 1.0, "entropy", false, c10::nullopt, bad);
      ADD_FAILURE() << "accepted backward \"" << bad << "\"";
    } catch (const c10::ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("categorical.relax: backward must be"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(arborescence::relax(m, 1.0, 0, false, c10::nullopt, "unroll"), c10::ValueError);
  EXPECT_THROW(permutation::relax(m, 1.0, 20, 0, "custom"), c10::ValueError);
  EXPECT_THROW(family("topk", {{"k", 2}}).relax(v, RelaxOptions{1.0, "", false, "exact"}, c10::nullopt), c10::ValueError);
  // Only topk's iterative regularizers unroll; the message says which backward the others take.
  for (const char* regularizer : {"exponential_family", "euclidean"}) {
    try {
      family("topk", {{"k", 2}}).relax(v, RelaxOptions{1.0, regularizer, false, "unroll"}, c10::nullopt);
      ADD_FAILURE() << regularizer << " accepted backward \"unroll\"";
    } catch (const c10::ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("topk.relax: backward must be \"custom\" or \"finite_difference\""),
                std::string::npos)
          << e.what();
    }
  }
  try {
    family("topk", {{"k", 2}}).relax(v, RelaxOptions{1.0, "binary_entropy", false, "implicit"}, c10::nullopt);
    ADD_FAILURE() << "accepted backward \"implicit\"";
  } catch (const c10::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("\"finite_difference\" or \"unroll\", got \"implicit\""), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace structgrad
