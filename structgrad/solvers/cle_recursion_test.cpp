#include "structgrad/solvers/cle_recursion.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "structgrad/solvers/arborescence.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/recursion.h"
#include "structgrad/testing/trace_program.h"

namespace structgrad::solvers {
namespace {

using testing::plain_chi_square_critical;
using testing::plain_chi_square_statistic;
using testing::program_log_prob;

// A random instance: scores s = -log E, with the diagonal, the edges into root and a fraction
// p_absent of the others absent.
struct CleInstance {
  int64_t n, root;
  std::vector<double> scores;
  std::vector<uint8_t> present;
};

CleInstance random_cle_instance(int64_t n, double p_absent, double scale, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0, scale);
  std::bernoulli_distribution absent(p_absent);
  CleInstance instance{n, std::uniform_int_distribution<int64_t>(0, n - 1)(rng), std::vector<double>(n * n),
                    std::vector<uint8_t>(n * n)};
  for (int64_t u = 0; u < n; ++u)
    for (int64_t v = 0; v < n; ++v) {
      instance.scores[u * n + v] = normal(rng);
      instance.present[u * n + v] = u != v && v != instance.root && !absent(rng);
    }
  return instance;
}

std::vector<double> indicator(const std::vector<int64_t>& parent) {
  const int64_t n = int64_t(parent.size());
  std::vector<double> x(n * n, 0);
  for (int64_t v = 0; v < n; ++v)
    if (parent[v] >= 0) x[parent[v] * n + v] = 1;
  return x;
}

// The minimum-sum arborescence under E = exp(-s) over every arborescence of the complete
// digraph; empty when none uses present edges only.
std::vector<double> brute_force_minimum(const CleInstance& instance) {
  const int64_t n = instance.n;
  std::vector<int64_t> best;
  double best_sum = INFINITY;
  for (const std::vector<int64_t>& parent : arborescences(n, instance.root)) {
    double sum = 0;
    for (int64_t v = 0; v < n; ++v) {
      if (v == instance.root) continue;
      const int64_t edge = parent[v] * n + v;
      sum += instance.present[edge] ? std::exp(-instance.scores[edge]) : INFINITY;
    }
    if (sum < best_sum) {
      best_sum = sum;
      best = parent;
    }
  }
  return best.empty() ? std::vector<double>{} : indicator(best);
}

// The existing solver's maximum arborescence on the weights -E; empty when there is none.
std::vector<double> solver_minimum(const CleInstance& instance) {
  std::vector<double> w(instance.n * instance.n);
  for (size_t e = 0; e < w.size(); ++e) w[e] = instance.present[e] ? -std::exp(-instance.scores[e]) : -INFINITY;
  ArborescenceResult result = max_arborescence(w.data(), instance.n, instance.root);
  return result.status == ArborescenceStatus::kOptimal ? indicator(result.parent) : std::vector<double>{};
}

std::vector<double> cle_structure_of(const Recursion& algorithm) {
  std::vector<double> x(algorithm.structure_size(), 0);
  algorithm.combine(x.data());
  return x;
}

// Runs CLE on the instance and checks the trace against its replay: the replay accepts it, has
// one group per entry, ends in the same structure, and the trace has (n - 1) + cycles entries.
// Returns the structure (empty when infeasible) and the number of contracted cycles.
std::pair<std::vector<double>, int64_t> run_and_replay(const CleInstance& instance) {
  ChuLiuEdmondsRecursion cle(instance.n, instance.root);
  RecursionRun r = run(cle, instance.scores.data(), instance.present.data());
  if (r.status != RecursionRun::Status::kOk) return {{}, 0};
  std::vector<double> x = cle_structure_of(cle);
  const int64_t cycles = cle.contractions();
  EXPECT_EQ(int64_t(r.trace.size()), instance.n - 1 + cycles);
  TraceProgram p;
  ReplayStatus status = replay(cle, r.trace.data(), int64_t(r.trace.size()), instance.present.data(), p);
  EXPECT_TRUE(status.ok) << status.message;
  EXPECT_EQ(p.num_groups(), int64_t(r.trace.size()));
  EXPECT_EQ(cle.contractions(), cycles);
  EXPECT_EQ(cle_structure_of(cle), x);
  return {x, cycles};
}

TEST(ChuLiuEdmondsRecursion, RejectsBadSizes) {
  EXPECT_THROW(ChuLiuEdmondsRecursion(0, 0), std::invalid_argument);
  EXPECT_THROW(ChuLiuEdmondsRecursion(3, 3), std::invalid_argument);
  EXPECT_THROW(ChuLiuEdmondsRecursion(3, -1), std::invalid_argument);
}

TEST(ChuLiuEdmondsRecursion, OneNodeIsTheEmptyTree) {
  ChuLiuEdmondsRecursion cle(1, 0);
  std::vector<double> s{0.0};
  std::vector<uint8_t> present{0};
  RecursionRun r = run(cle, s.data(), present.data());
  EXPECT_EQ(r.status, RecursionRun::Status::kOk);
  EXPECT_TRUE(r.trace.empty());
  EXPECT_EQ(cle_structure_of(cle), std::vector<double>{0.0});
}

// CLE with a record of the zero-residual rule: at every level, the keys already chosen that
// a group holds (their residual is 0). Each group must hold at most one; the groups with none
// are the ones that add a trace entry.
class RecordedChuLiuEdmonds : public ChuLiuEdmondsRecursion {
 public:
  using ChuLiuEdmondsRecursion::ChuLiuEdmondsRecursion;
  void reset() override {
    ChuLiuEdmondsRecursion::reset();
    chosen_.assign(num_keys(), 0);
    most_zeros_ = fresh_groups_ = 0;
  }
  void split(Partition& groups) const override {
    ChuLiuEdmondsRecursion::split(groups);
    for (int64_t g = 0; g < groups.size(); ++g) {
      int64_t zeros = 0;
      for (int64_t i = groups.offsets[g]; i < groups.offsets[g + 1]; ++i) zeros += chosen_[groups.keys[i]];
      most_zeros_ = std::max(most_zeros_, zeros);
      fresh_groups_ += zeros == 0;
    }
  }
  void map(const int64_t* argmins, int64_t count) override {
    for (int64_t g = 0; g < count; ++g) chosen_[argmins[g]] = 1;
    ChuLiuEdmondsRecursion::map(argmins, count);
  }
  int64_t most_zeros() const { return most_zeros_; }
  int64_t fresh_groups() const { return fresh_groups_; }

 private:
  std::vector<uint8_t> chosen_;
  mutable int64_t most_zeros_ = 0, fresh_groups_ = 0;
};

TEST(ChuLiuEdmondsRecursion, NoGroupHoldsTwoZeroResiduals) {
  std::mt19937_64 rng(14);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t n = 2 + trial % 40;
    CleInstance instance = random_cle_instance(n, 0.0, 2.0, rng);
    RecordedChuLiuEdmonds cle(n, instance.root);
    RecursionRun r = run(cle, instance.scores.data(), instance.present.data());
    ASSERT_EQ(r.status, RecursionRun::Status::kOk);
    EXPECT_LE(cle.most_zeros(), 1) << "trial " << trial;
    EXPECT_EQ(cle.fresh_groups(), int64_t(r.trace.size())) << "trial " << trial;
  }
}

TEST(ChuLiuEdmondsRecursion, SmallInstancesGiveTheMinimumArborescence) {
  std::mt19937_64 rng(11);
  int64_t infeasible = 0, contracted = 0, deep = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    const int64_t n = 2 + trial % 5;
    CleInstance instance = random_cle_instance(n, trial % 3 == 0 ? 0.4 : 0.0, 2.0, rng);
    std::vector<double> expected = brute_force_minimum(instance);
    ASSERT_EQ(solver_minimum(instance), expected) << "trial " << trial;
    auto [x, cycles] = run_and_replay(instance);
    EXPECT_EQ(x, expected) << "trial " << trial << ", n " << n << ", root " << instance.root;
    infeasible += expected.empty();
    contracted += cycles > 0;
    deep += cycles > 1;
  }
  // The instances exercise every branch: no tree, one contraction, several.
  EXPECT_GT(infeasible, 20);
  EXPECT_GT(contracted, 200);
  EXPECT_GT(deep, 20);
}

TEST(ChuLiuEdmondsRecursion, LargeInstancesMatchTheArborescenceSolver) {
  std::mt19937_64 rng(12);
  for (double scale : {1.0, 50.0}) {
    int64_t most_cycles = 0;
    for (int trial = 0; trial < 20; ++trial) {
      const int64_t n = 30 + (trial * 7) % 31;
      CleInstance instance = random_cle_instance(n, trial % 2 ? 0.2 : 0.0, scale, rng);
      auto [x, cycles] = run_and_replay(instance);
      ASSERT_FALSE(x.empty()) << "scale " << scale << ", trial " << trial;
      EXPECT_EQ(x, solver_minimum(instance)) << "scale " << scale << ", trial " << trial << ", n " << n;
      most_cycles = std::max(most_cycles, cycles);
    }
    EXPECT_GE(most_cycles, 3) << "scale " << scale;  // nested contractions happen
  }
}

TEST(ChuLiuEdmondsRecursion, InfeasibleWhenANodeIsUnreachable) {
  const int64_t n = 3;
  std::vector<double> s(n * n, 0.0);
  TraceProgram p;
  // Node 2 has no incoming edge: its top-level group is empty.
  std::vector<uint8_t> no_parent(n * n, 0);
  no_parent[0 * n + 1] = no_parent[2 * n + 1] = 1;
  ChuLiuEdmondsRecursion cle(n, 0);
  EXPECT_EQ(run(cle, s.data(), no_parent.data()).status, RecursionRun::Status::kInfeasible);
  // Nodes 1 and 2 point at each other only: the cycle's super-node has no incoming edge.
  std::vector<uint8_t> closed(n * n, 0);
  closed[1 * n + 2] = closed[2 * n + 1] = 1;
  EXPECT_EQ(run(cle, s.data(), closed.data()).status, RecursionRun::Status::kInfeasible);
  std::vector<int64_t> trace{2 * n + 1, 1 * n + 2};
  ReplayStatus status = replay(cle, trace.data(), 2, closed.data(), p);
  EXPECT_FALSE(status.ok);
  EXPECT_NE(status.message.find("no admissible key"), std::string::npos);
}

TEST(ChuLiuEdmondsRecursion, ReplayRejectsWrongTraces) {
  // A complete 5-node instance whose run contracts a cycle.
  std::mt19937_64 rng(13);
  const int64_t n = 5;
  CleInstance instance = random_cle_instance(n, 0.0, 2.0, rng);
  ChuLiuEdmondsRecursion cle(n, instance.root);
  RecursionRun r = run(cle, instance.scores.data(), instance.present.data());
  while (cle.contractions() == 0) {
    instance = random_cle_instance(n, 0.0, 2.0, rng);
    cle = ChuLiuEdmondsRecursion(n, instance.root);
    r = run(cle, instance.scores.data(), instance.present.data());
  }
  const uint8_t* present = instance.present.data();
  const int64_t length = int64_t(r.trace.size());
  TraceProgram p;
  ASSERT_TRUE(replay(cle, r.trace.data(), length, present, p).ok);

  auto message = [&](const std::vector<int64_t>& trace) {
    ReplayStatus status = replay(cle, trace.data(), int64_t(trace.size()), present, p);
    EXPECT_FALSE(status.ok);
    return status.message;
  };
  auto names = [](const std::string& text, int64_t position, int64_t entry) {
    return text.find("trace[" + std::to_string(position) + "] = " + std::to_string(entry)) != std::string::npos;
  };
  // The first node's group holds only edges into it: the second node's choice is not one of them.
  std::vector<int64_t> wrong = r.trace;
  wrong[0] = r.trace[1];
  EXPECT_TRUE(names(message(wrong), 0, wrong[0]));
  // No edge enters the root, and no edge is a loop.
  const int64_t first = instance.root == 0 ? 1 : 0;
  wrong[0] = first * n + instance.root;
  EXPECT_TRUE(names(message(wrong), 0, wrong[0]));
  wrong[0] = first * n + first;
  EXPECT_TRUE(names(message(wrong), 0, wrong[0]));
  // The first contraction's group drops the edges inside the cycle, such as the cycle edge into
  // the head of the edge that entered it (that node's top-level choice).
  const int64_t head = r.trace[n - 1] % n;
  wrong = r.trace;
  wrong[n - 1] = r.trace[head < instance.root ? head : head - 1];
  EXPECT_EQ(wrong[n - 1] % n, head);
  EXPECT_TRUE(names(message(wrong), n - 1, wrong[n - 1]));
  // An absent edge is no choice either.
  std::vector<uint8_t> fewer(instance.present);
  fewer[r.trace[0]] = 0;
  ReplayStatus absent = replay(cle, r.trace.data(), length, fewer.data(), p);
  EXPECT_FALSE(absent.ok);
  EXPECT_TRUE(names(absent.message, 0, r.trace[0])) << absent.message;

  std::vector<int64_t> shorter(r.trace.begin(), r.trace.end() - 1), longer(r.trace);
  longer.push_back(r.trace[0]);
  EXPECT_NE(message(shorter).find("too short"), std::string::npos);
  EXPECT_NE(message(longer).find("too long"), std::string::npos);
}

// The exact distribution: every trace of a small instance, its probability from the trace
// program, against the frequencies of seeded runs with E_j ~ Exp(exp(theta_j)).
void check_trace_distribution(int64_t n, int64_t root, const std::vector<double>& theta, uint64_t seed) {
  std::vector<uint8_t> present(n * n);
  std::vector<int64_t> keys;
  for (int64_t e = 0; e < n * n; ++e) {
    present[e] = e / n != e % n && e % n != root && std::isfinite(theta[e]);
    if (present[e]) keys.push_back(e);
  }
  ChuLiuEdmondsRecursion cle(n, root);

  // Every trace: the sequences of present keys of every possible length that replay accepts:
  // n - 1 top-level entries plus one per contraction, at most n - 2 of them (each merges two or
  // more of the n - 1 non-root super-nodes).
  std::map<std::vector<int64_t>, int64_t> index;
  std::vector<double> probability;
  std::vector<std::vector<double>> structures;
  TraceProgram p;
  for (int64_t length = n - 1; length <= 2 * n - 3; ++length) {
    std::vector<int64_t> digits(length, 0), trace(length);
    for (bool more = true; more;) {
      for (int64_t i = 0; i < length; ++i) trace[i] = keys[digits[i]];
      if (replay(cle, trace.data(), length, present.data(), p).ok) {
        index.emplace(trace, int64_t(probability.size()));
        probability.push_back(std::exp(program_log_prob(p, theta)));
        structures.push_back(cle_structure_of(cle));
      }
      int64_t i = 0;
      while (i < length && ++digits[i] == int64_t(keys.size())) digits[i++] = 0;
      more = i < length;
    }
  }
  double total = 0;
  for (double q : probability) total += q;
  EXPECT_NEAR(total, 1.0, 1e-9);

  std::map<std::vector<double>, int64_t> structure_index;
  std::vector<double> structure_probability;
  for (size_t t = 0; t < structures.size(); ++t) {
    auto [it, added] = structure_index.emplace(structures[t], int64_t(structure_probability.size()));
    if (added) structure_probability.push_back(0);
    structure_probability[it->second] += probability[t];
  }

  const int64_t samples = 200000;
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> exponential(1.0);
  std::vector<double> scores(n * n);
  std::vector<int64_t> trace_counts(probability.size(), 0), structure_counts(structure_probability.size(), 0);
  for (int64_t draw = 0; draw < samples; ++draw) {
    // E_j = Exp(1) / exp(theta_j) ~ Exp(exp(theta_j)), so -log E_j = theta_j - log Exp(1).
    for (int64_t e = 0; e < n * n; ++e) scores[e] = theta[e] - std::log(exponential(rng));
    RecursionRun r = run(cle, scores.data(), present.data());
    ASSERT_EQ(r.status, RecursionRun::Status::kOk);
    auto found = index.find(r.trace);
    ASSERT_NE(found, index.end()) << "a sampled trace is missing from the enumeration";
    ++trace_counts[found->second];
    const std::vector<double> x = cle_structure_of(cle);
    ASSERT_EQ(x, structures[found->second]);
    ++structure_counts[structure_index.at(x)];
  }

  for (double q : probability) ASSERT_GE(q * samples, 5.0) << "a trace too rare for the chi-square test";
  const double trace_statistic = plain_chi_square_statistic(trace_counts, probability);
  const double trace_critical = plain_chi_square_critical(int64_t(probability.size()) - 1, 1e-3);
  const double structure_statistic = plain_chi_square_statistic(structure_counts, structure_probability);
  const double structure_critical = plain_chi_square_critical(int64_t(structure_probability.size()) - 1, 1e-3);
  std::cout << "n = " << n << ": " << probability.size() << " traces, chi-square " << trace_statistic
            << " (critical " << trace_critical << "); " << structure_probability.size()
            << " structures, chi-square " << structure_statistic << " (critical " << structure_critical << ")\n";
  EXPECT_LT(trace_statistic, trace_critical);
  EXPECT_LT(structure_statistic, structure_critical);
}

TEST(ChuLiuEdmondsRecursion, TracesHaveTheExactDistributionOnThreeNodes) {
  const double o = -INFINITY;  // the diagonal and the edges into the root: never present
  check_trace_distribution(3, 1,
                           {o, o, 0.3,  //
                            -0.4, o, 0.8,  //
                            0.5, o, o},
                           21);
}

TEST(ChuLiuEdmondsRecursion, TracesHaveTheExactDistributionOnFourNodes) {
  const double o = -INFINITY;
  check_trace_distribution(4, 0,
                           {o, -0.6, 0.2, -0.3,  //
                            o, o, 0.7, 0.1,  //
                            o, 0.4, o, 0.9,  //
                            o, 0.5, -0.2, o},
                           22);
}

}  // namespace
}  // namespace structgrad::solvers
