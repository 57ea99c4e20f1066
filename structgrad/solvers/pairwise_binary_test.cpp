#include "structgrad/solvers/pairwise_binary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

namespace structgrad::solvers {
namespace {

struct Instance {
  int64_t n;
  std::vector<double> h, a;
};

// Unaries and symmetric pairwise weights: normal, or integers in [-3, 3] (many ties); each pair
// zero with probability p_zero; |a_ij| when supermodular. A NaN diagonal, which must not be read.
Instance random_instance(int64_t n, bool supermodular, bool integer, double p_zero, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> small(-3, 3);
  std::bernoulli_distribution zero(p_zero);
  auto draw = [&] { return integer ? double(small(rng)) : normal(rng); };
  Instance instance{n, std::vector<double>(n), std::vector<double>(n * n, std::nan(""))};
  for (double& x : instance.h) x = draw();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      double x = zero(rng) ? 0.0 : draw();
      if (supermodular) x = std::abs(x);
      instance.a[i * n + j] = instance.a[j * n + i] = x;
    }
  return instance;
}

// The optimal score by direct evaluation of every z, and how many z attain it (within rounding).
struct BruteForce {
  double best;
  int optimal_count;
};

BruteForce brute_force(const Instance& instance) {
  const int64_t n = instance.n;
  std::vector<double> scores;
  std::vector<uint8_t> z(n);
  for (uint64_t mask = 0; mask < (uint64_t(1) << n); ++mask) {
    for (int64_t i = 0; i < n; ++i) z[i] = (mask >> i) & 1;
    scores.push_back(pairwise_binary_score(instance.h.data(), instance.a.data(), n, z.data()));
  }
  BruteForce result{-std::numeric_limits<double>::infinity(), 0};
  for (double s : scores) result.best = std::max(result.best, s);
  for (double s : scores) result.optimal_count += std::abs(s - result.best) < 1e-9;
  return result;
}

// z is a 0/1 vector of size n and score is its score.
void expect_consistent(const PairwiseBinaryResult& result, const Instance& instance) {
  ASSERT_EQ(int64_t(result.z.size()), instance.n);
  for (uint8_t zi : result.z) EXPECT_TRUE(zi == 0 || zi == 1);
  EXPECT_DOUBLE_EQ(result.score,
                   pairwise_binary_score(instance.h.data(), instance.a.data(), instance.n, result.z.data()));
}

using Solve = PairwiseBinaryResult (*)(const Instance&);

PairwiseBinaryResult by_max_flow(const Instance& x) {
  return max_pairwise_binary_by_max_flow(x.h.data(), x.a.data(), x.n);
}
PairwiseBinaryResult by_integer_program(const Instance& x) {
  return max_pairwise_binary_by_integer_program(x.h.data(), x.a.data(), x.n);
}
PairwiseBinaryResult by_enumeration(const Instance& x) {
  return max_pairwise_binary_by_enumeration(x.h.data(), x.a.data(), x.n);
}

// The solver against enumeration (and enumeration against direct evaluation) on random instances
// with n <= 12; returns how many had a unique optimum, whose z must then agree.
int expect_matches_enumeration(Solve solve, bool supermodular, int trials_per_size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  int unique = 0;
  for (int64_t n = 0; n <= 12; ++n)
    for (int trial = 0; trial < trials_per_size; ++trial) {
      const bool integer = trial % 2 == 1;
      const double p_zero = (trial % 3) * 0.3;
      const Instance instance = random_instance(n, supermodular, integer, p_zero, rng);
      const BruteForce truth = brute_force(instance);
      const PairwiseBinaryResult enumerated = by_enumeration(instance);
      const PairwiseBinaryResult result = solve(instance);
      SCOPED_TRACE("n " + std::to_string(n) + " trial " + std::to_string(trial));
      EXPECT_EQ(enumerated.status, PairwiseBinaryStatus::kOptimal);
      EXPECT_EQ(result.status, PairwiseBinaryStatus::kOptimal);
      expect_consistent(enumerated, instance);
      expect_consistent(result, instance);
      EXPECT_NEAR(enumerated.score, truth.best, 1e-9);
      EXPECT_NEAR(result.score, truth.best, 1e-9);
      if (truth.optimal_count == 1) {
        ++unique;
        EXPECT_EQ(result.z, enumerated.z);
      }
    }
  return unique;
}

TEST(PairwiseBinary, MaxFlowMatchesEnumerationOnSupermodularInstances) {
  const int unique = expect_matches_enumeration(by_max_flow, /*supermodular=*/true, 60, 3);
  EXPECT_GT(unique, 300);
}

TEST(PairwiseBinary, IntegerProgramMatchesEnumerationOnGeneralInstances) {
  const int unique = expect_matches_enumeration(by_integer_program, /*supermodular=*/false, 24, 5);
  EXPECT_GT(unique, 100);
}

TEST(PairwiseBinary, IntegerProgramMatchesEnumerationOnSupermodularInstances) {
  const int unique = expect_matches_enumeration(by_integer_program, /*supermodular=*/true, 8, 13);
  EXPECT_GT(unique, 30);
}

TEST(PairwiseBinary, TiesGiveAnOptimalZ) {
  for (int64_t n : {1, 5, 12}) {
    const Instance zeros{n, std::vector<double>(n, 0.0), std::vector<double>(n * n, 0.0)};
    for (Solve solve : {by_max_flow, by_integer_program, by_enumeration}) {
      const PairwiseBinaryResult result = solve(zeros);
      EXPECT_EQ(result.status, PairwiseBinaryStatus::kOptimal);
      expect_consistent(result, zeros);
      EXPECT_EQ(result.score, 0.0);
    }
  }
  // Every z with z_0 = z_1 scores 0 here; z_0 != z_1 scores -1.
  const Instance pair{2, {-1.0, -1.0}, {0.0, 2.0, 2.0, 0.0}};
  for (Solve solve : {by_max_flow, by_integer_program, by_enumeration}) {
    const PairwiseBinaryResult result = solve(pair);
    expect_consistent(result, pair);
    EXPECT_EQ(result.score, 0.0);
    EXPECT_EQ(result.z[0], result.z[1]);
  }
}

TEST(PairwiseBinary, MaxFlowRefusesNegativeWeights) {
  std::mt19937_64 rng(17);
  Instance instance = random_instance(20, /*supermodular=*/true, /*integer=*/false, 0.0, rng);
  instance.a[3 * 20 + 7] = instance.a[7 * 20 + 3] = -0.5;
  const PairwiseBinaryResult refused = by_max_flow(instance);
  EXPECT_EQ(refused.status, PairwiseBinaryStatus::kNotSupermodular);
  EXPECT_TRUE(refused.z.empty());
  PairwiseBinaryOptions forced;
  forced.solver = PairwiseBinarySolver::kMaxFlow;
  EXPECT_EQ(max_pairwise_binary(instance.h.data(), instance.a.data(), 20, forced).status,
            PairwiseBinaryStatus::kNotSupermodular);
  // Left to choose, the same instance goes to the integer program.
  const PairwiseBinaryResult chosen = max_pairwise_binary(instance.h.data(), instance.a.data(), 20);
  EXPECT_EQ(chosen.status, PairwiseBinaryStatus::kOptimal);
  expect_consistent(chosen, instance);
  EXPECT_NEAR(chosen.score, by_enumeration(instance).score, 1e-9);
}

TEST(PairwiseBinary, EverySolverChoiceFindsTheOptimum) {
  std::mt19937_64 rng(19);
  for (int64_t n : {8, 18}) {
    for (bool supermodular : {true, false}) {
      const Instance instance = random_instance(n, supermodular, /*integer=*/false, 0.2, rng);
      const double best = by_enumeration(instance).score;
      for (PairwiseBinarySolver solver : {PairwiseBinarySolver::kAuto, PairwiseBinarySolver::kEnumeration,
                                          PairwiseBinarySolver::kMaxFlow, PairwiseBinarySolver::kIntegerProgram}) {
        if (solver == PairwiseBinarySolver::kMaxFlow && !supermodular) continue;
        PairwiseBinaryOptions options;
        options.solver = solver;
        const PairwiseBinaryResult result = max_pairwise_binary(instance.h.data(), instance.a.data(), n, options);
        SCOPED_TRACE("n " + std::to_string(n) + " solver " + std::to_string(int(solver)));
        EXPECT_EQ(result.status, PairwiseBinaryStatus::kOptimal);
        expect_consistent(result, instance);
        EXPECT_NEAR(result.score, best, 1e-9);
      }
    }
  }
}

TEST(PairwiseBinary, MaxFlowAgreesWithTheIntegerProgramOnALargeInstance) {
  std::mt19937_64 rng(23);
  const Instance instance = random_instance(80, /*supermodular=*/true, /*integer=*/false, 0.5, rng);
  const PairwiseBinaryResult flow = by_max_flow(instance);
  const PairwiseBinaryResult program = by_integer_program(instance);
  EXPECT_EQ(flow.status, PairwiseBinaryStatus::kOptimal);
  EXPECT_EQ(program.status, PairwiseBinaryStatus::kOptimal);
  expect_consistent(flow, instance);
  expect_consistent(program, instance);
  EXPECT_NEAR(flow.score, program.score, 1e-7);
}

TEST(PairwiseBinary, TimeLimitKeepsAValidSolution) {
  std::mt19937_64 rng(29);
  const Instance instance = random_instance(60, /*supermodular=*/false, /*integer=*/false, 0.0, rng);
  const PairwiseBinaryResult result =
      max_pairwise_binary_by_integer_program(instance.h.data(), instance.a.data(), 60, /*time_limit_seconds=*/0.01);
  // Whether CBC finishes in time depends on the machine; a valid z does not.
  EXPECT_TRUE(result.status == PairwiseBinaryStatus::kTimeLimit || result.status == PairwiseBinaryStatus::kOptimal)
      << int(result.status);
  expect_consistent(result, instance);
  // The greedy start, from z = 0, never scores below 0.
  EXPECT_GE(result.score, 0.0);
}

// CBC keeps process-wide state: unserialized concurrent solves print garbage and return wrong
// optima. Every thread must still get the optimum.
TEST(PairwiseBinary, IntegerProgramFromSeveralThreads) {
  constexpr int kThreads = 4, kInstances = 10;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t, &mismatches] {
      std::mt19937_64 rng(31 + t);
      for (int k = 0; k < kInstances; ++k) {
        const Instance instance = random_instance(10, /*supermodular=*/false, /*integer=*/false, 0.0, rng);
        const PairwiseBinaryResult result = by_integer_program(instance);
        mismatches[t] += result.status != PairwiseBinaryStatus::kOptimal ||
                         std::abs(result.score - by_enumeration(instance).score) > 1e-9;
      }
    });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(kThreads, 0));
}

TEST(PairwiseBinary, TrivialSizes) {
  const Instance empty{0, {}, {}};
  for (Solve solve : {by_max_flow, by_integer_program, by_enumeration}) {
    const PairwiseBinaryResult result = solve(empty);
    EXPECT_EQ(result.status, PairwiseBinaryStatus::kOptimal);
    EXPECT_TRUE(result.z.empty());
    EXPECT_EQ(result.score, 0.0);
  }
  EXPECT_TRUE(max_pairwise_binary(nullptr, nullptr, 0).z.empty());
  for (double h : {2.5, -1.5}) {
    const Instance one{1, {h}, {std::nan("")}};
    for (Solve solve : {by_max_flow, by_integer_program, by_enumeration}) {
      const PairwiseBinaryResult result = solve(one);
      EXPECT_EQ(result.status, PairwiseBinaryStatus::kOptimal);
      EXPECT_EQ(result.z, std::vector<uint8_t>{h > 0});
      EXPECT_EQ(result.score, std::max(h, 0.0));
    }
  }
  EXPECT_THROW(max_pairwise_binary(nullptr, nullptr, -1), std::invalid_argument);
}

// The exception's message, or "" when none is thrown.
std::string error_of(Solve solve, const Instance& instance) {
  try {
    solve(instance);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(PairwiseBinary, RejectsNaNAndInfinity) {
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  const Instance nan_h{2, {0.0, nan}, {0.0, 1.0, 1.0, 0.0}};
  const Instance nan_a{3, {0.0, 0.0, 0.0}, {0.0, 1.0, 1.0, 1.0, 0.0, nan, 1.0, nan, 0.0}};
  const Instance inf_a{2, {0.0, 0.0}, {0.0, -inf, -inf, 0.0}};
  for (Solve solve : {by_max_flow, by_integer_program, by_enumeration}) {
    EXPECT_NE(error_of(solve, nan_h).find("h[1] is nan"), std::string::npos) << error_of(solve, nan_h);
    EXPECT_NE(error_of(solve, nan_a).find("a at (1, 2) is nan"), std::string::npos) << error_of(solve, nan_a);
    EXPECT_NE(error_of(solve, inf_a).find("a at (0, 1) is -inf"), std::string::npos) << error_of(solve, inf_a);
  }
  // The diagonal and the lower triangle are never read.
  const Instance lower_nan{2, {1.0, 1.0}, {nan, -3.0, nan, nan}};
  for (Solve solve : {by_max_flow, by_integer_program, by_enumeration}) {
    const PairwiseBinaryResult result = solve(lower_nan);
    if (solve == by_max_flow) {
      EXPECT_EQ(result.status, PairwiseBinaryStatus::kNotSupermodular);
      continue;
    }
    EXPECT_EQ(result.score, 1.0);
  }
}

TEST(PairwiseBinary, RejectsBadLimits) {
  const std::vector<double> h(21, 0.0), a(21 * 21, 0.0);
  EXPECT_THROW(max_pairwise_binary_by_enumeration(h.data(), a.data(), 21), std::invalid_argument);
  EXPECT_THROW(max_pairwise_binary_by_integer_program(h.data(), a.data(), 21, 0.0), std::invalid_argument);
  EXPECT_THROW(max_pairwise_binary_by_integer_program(h.data(), a.data(), 21, std::nan("")), std::invalid_argument);
  PairwiseBinaryOptions no_time;
  no_time.time_limit_seconds = -1;
  EXPECT_THROW(max_pairwise_binary(h.data(), a.data(), 3, no_time), std::invalid_argument);
}

}  // namespace
}  // namespace structgrad::solvers
