#include "structgrad/solvers/recursion.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace structgrad::solvers {

void Recursion::split(Partition&) const {
  throw std::logic_error("Recursion::split: a multi-group recursion must define split");
}

bool Recursion::active(int64_t) const {
  throw std::logic_error("Recursion::active: a single-group recursion must define active");
}

namespace {

// The groups of one level. Single-group recursions keep their active keys in a list that only
// shrinks (K' is a subset of K), so each level filters the last one instead of scanning every key.
class Levels {
 public:
  Levels(Recursion& algorithm, const uint8_t* present) : algorithm_(algorithm) {
    if (!algorithm.single_group()) return;
    for (int64_t j = 0; j < algorithm.num_keys(); ++j)
      if (present[j] && algorithm.active(j)) active_.push_back(j);
  }

  const Partition& next() {
    if (++level_ > algorithm_.num_keys() + 1)
      throw std::logic_error("recursion: f_map did not shrink K (more levels than keys)");
    groups_.clear();
    if (!algorithm_.single_group()) {
      algorithm_.split(groups_);
      return groups_;
    }
    active_.erase(std::remove_if(active_.begin(), active_.end(), [&](int64_t j) { return !algorithm_.active(j); }),
                  active_.end());
    groups_.keys = active_;
    groups_.close_group();
    return groups_;
  }

 private:
  Recursion& algorithm_;
  std::vector<int64_t> active_;
  Partition groups_;
  int64_t level_ = 0;
};

// A single-group nested recursion chooses, at every level, the best-scoring key still in K:
// sort once, then scan.
RecursionRun run_sorted(Recursion& algorithm, const double* scores, const uint8_t* present) {
  RecursionRun result;
  std::vector<int64_t> order;
  for (int64_t j = 0; j < algorithm.num_keys(); ++j)
    if (present[j] && algorithm.active(j)) order.push_back(j);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  size_t position = 0;
  while (!algorithm.stop()) {
    while (position < order.size() && !algorithm.active(order[position])) ++position;
    if (position == order.size()) {
      result.status = RecursionRun::Status::kInfeasible;
      return result;
    }
    const int64_t chosen = order[position++];
    result.trace.push_back(chosen);
    algorithm.map(&chosen, 1);
  }
  return result;
}

}  // namespace

RecursionRun run(Recursion& algorithm, const double* scores, const uint8_t* present) {
  algorithm.reset();
  if (algorithm.single_group() && algorithm.nested()) return run_sorted(algorithm, scores, present);

  RecursionRun result;
  const int64_t n = algorithm.num_keys();
  std::vector<double> residual(scores, scores + n);  // -log E' of the current level
  std::vector<uint8_t> zero(n, 0);
  std::vector<int64_t> argmins;
  Levels levels(algorithm, present);
  while (!algorithm.stop()) {
    const Partition& groups = levels.next();
    argmins.clear();
    for (int64_t g = 0; g < groups.size(); ++g) {
      int64_t best = -1;
      bool degenerate = false;
      for (int64_t i = groups.offsets[g]; i < groups.offsets[g + 1]; ++i) {
        const int64_t key = groups.keys[i];
        if (!present[key]) continue;
        if (zero[key]) {
          best = key;
          degenerate = true;
          break;
        }
        if (best < 0 || residual[key] > residual[best]) best = key;
      }
      if (best < 0) {
        result.status = RecursionRun::Status::kInfeasible;
        return result;
      }
      argmins.push_back(best);
      if (degenerate) continue;
      result.trace.push_back(best);
      zero[best] = 1;
      if (algorithm.nested()) continue;
      // E'_j = E_j - E_best in -log space: s'_j = s_j - log(1 - exp(s_j - s_best)), s_j <= s_best.
      const double top = residual[best];
      for (int64_t i = groups.offsets[g]; i < groups.offsets[g + 1]; ++i) {
        const int64_t key = groups.keys[i];
        if (present[key] && key != best) residual[key] -= std::log(-std::expm1(residual[key] - top));
      }
    }
    algorithm.map(argmins.data(), int64_t(argmins.size()));
  }
  return result;
}

ReplayStatus replay(Recursion& algorithm, const int64_t* trace, int64_t length, const uint8_t* present,
                    TraceProgram& program) {
  const int64_t n = algorithm.num_keys();
  program = TraceProgram{};
  program.num_keys = n;
  algorithm.reset();
  std::vector<uint8_t> zero(n, 0);
  std::vector<int64_t> argmins;
  int64_t position = 0;
  auto fail = [&](std::string message) { return ReplayStatus{false, std::move(message)}; };
  Levels levels(algorithm, present);
  while (!algorithm.stop()) {
    const Partition& groups = levels.next();
    argmins.clear();
    for (int64_t g = 0; g < groups.size(); ++g) {
      const size_t start = program.members.size();
      int64_t forced = -1;
      for (int64_t i = groups.offsets[g]; i < groups.offsets[g + 1]; ++i) {
        const int64_t key = groups.keys[i];
        if (!present[key]) continue;
        if (zero[key]) forced = key;
        program.members.push_back(int32_t(key));
      }
      if (forced >= 0) {  // chosen with probability 1: not part of the trace
        program.members.resize(start);
        argmins.push_back(forced);
        continue;
      }
      if (program.members.size() == start)
        return fail("a step of the recursion has no admissible key (the instance has no structure)");
      if (position >= length)
        return fail("the trace is too short: the recursion needs more than " + std::to_string(length) + " entries");
      const int64_t chosen = trace[position];
      if (std::find(program.members.begin() + start, program.members.end(), chosen) == program.members.end())
        return fail("trace[" + std::to_string(position) + "] = " + std::to_string(chosen) +
                    " is not an admissible choice at that step of the recursion");
      program.offsets.push_back(int32_t(program.members.size()));
      program.chosen.push_back(int32_t(chosen));
      zero[chosen] = 1;
      argmins.push_back(chosen);
      ++position;
    }
    algorithm.map(argmins.data(), int64_t(argmins.size()));
  }
  if (position != length)
    return fail("the trace is too long: the recursion ends after " + std::to_string(position) + " entries, got " +
                std::to_string(length));
  return {};
}

}  // namespace structgrad::solvers
