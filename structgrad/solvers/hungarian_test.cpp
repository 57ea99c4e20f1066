#include "structgrad/solvers/hungarian.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <utility>

#include "structgrad/core/log_space.h"
#include "structgrad/solvers/enumerate.h"

namespace structgrad::solvers {
namespace {

using core::kNegInf;

double score_of(const std::vector<double>& w, const std::vector<int64_t>& column_of_row) {
  const int64_t n = int64_t(column_of_row.size());
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += w[i * n + column_of_row[i]];
  return total;
}

// The best score over every permutation (-inf when every permutation uses a forbidden pair).
double brute_force_best(const std::vector<double>& w, int64_t n) {
  double best = kNegInf;
  for (const auto& p : permutations(n)) best = std::max(best, score_of(w, p));
  return best;
}

void expect_optimal(const std::vector<double>& w, int64_t n, const char* what) {
  const Assignment a = max_weight_assignment(w.data(), n);
  ASSERT_EQ(a.status, AssignmentStatus::kOptimal) << what << " n=" << n;
  ASSERT_EQ(int64_t(a.column_of_row.size()), n);
  EXPECT_EQ(int64_t(std::set<int64_t>(a.column_of_row.begin(), a.column_of_row.end()).size()), n) << what;
  // Ties aside: any argmax is right, so compare scores, not permutations.
  const double best = brute_force_best(w, n);
  EXPECT_NEAR(a.score, score_of(w, a.column_of_row), 1e-12 * (1 + std::abs(best))) << what;
  EXPECT_NEAR(a.score, best, 1e-9 * (1 + std::abs(best))) << what << " n=" << n;
}

TEST(Hungarian, MatchesBruteForceOnPerturbedInstances) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal;
  std::extreme_value_distribution<double> gumbel;
  for (int64_t n = 1; n <= 7; ++n)
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<double> w(n * n);
      for (auto& x : w) x = 2 * normal(rng) + gumbel(rng);
      expect_optimal(w, n, "gumbel");
    }
}

TEST(Hungarian, IntegerWeightsWithTiesGiveAnArgmax) {
  // Five values, then two: column reduction and augmenting row reduction meet equal reduced
  // costs at every step. n runs on both sides of the solver's vector width (4).
  std::mt19937_64 rng(2);
  for (const auto& [lowest, highest] : {std::pair{-2, 2}, std::pair{0, 1}}) {
    std::uniform_int_distribution<int> small(lowest, highest);
    for (int64_t n = 2; n <= 8; ++n)
      for (int trial = 0; trial < 40; ++trial) {
        std::vector<double> w(n * n);
        for (auto& x : w) x = small(rng);
        expect_optimal(w, n, "ties");
      }
  }
}

TEST(Hungarian, ForbiddenPairsAreAvoided) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  std::bernoulli_distribution forbid(0.4);
  int feasible = 0, infeasible = 0;
  for (int64_t n = 1; n <= 6; ++n)
    for (int trial = 0; trial < 60; ++trial) {
      std::vector<double> w(n * n);
      for (auto& x : w) x = forbid(rng) ? kNegInf : 1e4 * normal(rng);
      if (brute_force_best(w, n) == kNegInf) {
        EXPECT_EQ(max_weight_assignment(w.data(), n).status, AssignmentStatus::kInfeasible);
        ++infeasible;
      } else {
        expect_optimal(w, n, "forbidden");
        ++feasible;
      }
    }
  EXPECT_GT(feasible, 50);
  EXPECT_GT(infeasible, 20);
}

TEST(Hungarian, ReusedSolverMatchesAFreshOne) {
  // One solver across instances of changing size and kind, as the batched wrapper uses it.
  std::mt19937_64 rng(6);
  std::normal_distribution<double> normal;
  std::bernoulli_distribution forbid(0.3);
  AssignmentSolver solver;
  for (int64_t n : {7, 3, 8, 1, 5, 6, 2, 7}) {
    std::vector<double> w(n * n);
    for (auto& x : w) x = forbid(rng) ? kNegInf : normal(rng);
    std::vector<int64_t> column_of_row(n);
    const AssignmentStatus status = solver.solve(w.data(), n, column_of_row.data());
    const Assignment fresh = max_weight_assignment(w.data(), n);
    ASSERT_EQ(status, fresh.status) << "n=" << n;
    if (brute_force_best(w, n) == kNegInf) {
      EXPECT_EQ(status, AssignmentStatus::kInfeasible);
    } else {
      expect_optimal(w, n, "reused");
      EXPECT_EQ(score_of(w, column_of_row), fresh.score) << "n=" << n;
    }
  }
}

TEST(Hungarian, EmptyAndLargeInstances) {
  EXPECT_EQ(max_weight_assignment(nullptr, 0).status, AssignmentStatus::kOptimal);
  // On a large instance with a planted, much better diagonal the optimum is the diagonal.
  const int64_t n = 120;
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> noise(0, 1);
  std::vector<double> w(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) w[i * n + j] = noise(rng) + (i == j ? 10 : 0);
  const Assignment a = max_weight_assignment(w.data(), n);
  ASSERT_EQ(a.status, AssignmentStatus::kOptimal);
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(a.column_of_row[i], i);
}

}  // namespace
}  // namespace structgrad::solvers
