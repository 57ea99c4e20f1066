#include "structgrad/core/vector_exp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace structgrad::core {
namespace {

TEST(VectorExp, MatchesStdExpToAFewUlpsOnTheWholeRange) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> uniform(-708.0, 0.0);
  std::vector<double> xs = {0.0, -0.0, -1e-300, -1e-17, -0.5 * std::log(2.0), -std::log(2.0), -1.0, -708.0};
  for (int i = 0; i < 200000; ++i) xs.push_back(i % 2 ? uniform(rng) : uniform(rng) / 700.0);
  double worst = 0;
  for (double x : xs) {
    const double want = std::exp(x), got = exp_nonpositive(x);
    worst = std::max(worst, std::abs(got - want) / want);
  }
  EXPECT_LT(worst, 4 * std::numeric_limits<double>::epsilon()) << "worst relative error " << worst;
}

TEST(VectorExp, ClampsBelowTheRangeAndZeroesMinusInfinity) {
  EXPECT_EQ(exp_nonpositive(-800.0), exp_nonpositive(-708.0));
  EXPECT_GT(exp_nonpositive(-800.0), 0.0);
  std::vector<double> x = {0.0, -INFINITY, 1.0, -2.5};
  exp_shifted_in_place(x.data(), int64_t(x.size()), 1.0);
  EXPECT_DOUBLE_EQ(x[0], std::exp(-1.0));
  EXPECT_EQ(x[1], 0.0);
  EXPECT_EQ(x[2], 1.0);
  EXPECT_DOUBLE_EQ(x[3], std::exp(-3.5));
}

}  // namespace
}  // namespace structgrad::core
