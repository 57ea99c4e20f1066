#include "structgrad/solvers/recursion.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace structgrad::solvers {

void Recursion::split(Partition&) const {
  throw std::logic_error("Recursion::split: a multi-group recursion must define split");
}

bool Recursion::active(int64_t) const {
  throw std::logic_error("Recursion::active: a single-group recursion must define active");
}

bool Recursion::removed_keys(std::vector<int64_t>&) const { return false; }

namespace {

// K at the top level of a single-group recursion: the present keys it calls active.
std::vector<int64_t> initial_keys(const Recursion& algorithm, const uint8_t* present) {
  std::vector<int64_t> keys;
  for (int64_t j = 0; j < algorithm.num_keys(); ++j)
    if (present[j] && algorithm.active(j)) keys.push_back(j);
  return keys;
}

// The groups of one level. Single-group recursions keep their active keys in a list that only
// shrinks (K' is a subset of K), so each level filters the last one instead of scanning every key.
class Levels {
 public:
  Levels(Recursion& algorithm, const uint8_t* present) : algorithm_(algorithm), keys_(algorithm.num_keys()) {
    if (algorithm.single_group()) active_ = initial_keys(algorithm, present);
  }

  const Partition& next() {
    if (++level_ > keys_ + 1)
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
  int64_t keys_;
  std::vector<int64_t> active_;
  Partition groups_;
  int64_t level_ = 0;
};

// A single-group nested recursion chooses, at every level, the best-scoring key still in K.
// A heap pops keys in that order and stops when the recursion does, so it costs O(N) plus
// O(log N) per key looked at (Kruskal looks at a fraction of the edges).
RecursionRun run_sorted(Recursion& algorithm, const double* scores, const uint8_t* present) {
  RecursionRun result;
  using Entry = std::pair<double, int64_t>;
  std::vector<Entry> heap;
  for (int64_t j : initial_keys(algorithm, present)) heap.emplace_back(scores[j], j);
  // Best first: the larger score, ties to the smaller key.
  auto later = [](const Entry& a, const Entry& b) { return a.first < b.first || (a.first == b.first && a.second > b.second); };
  std::make_heap(heap.begin(), heap.end(), later);
  while (!algorithm.stop()) {
    while (!heap.empty() && !algorithm.active(heap.front().second)) {
      std::pop_heap(heap.begin(), heap.end(), later);
      heap.pop_back();
    }
    if (heap.empty()) {
      result.status = RecursionRun::Status::kInfeasible;
      return result;
    }
    const int64_t chosen = heap.front().second;
    std::pop_heap(heap.begin(), heap.end(), later);
    heap.pop_back();
    result.trace.push_back(chosen);
    algorithm.map(&chosen, 1);
  }
  return result;
}


// The residuals E' of the general path, in one of two spaces. Linear: E itself, on scores shifted
// so that the best is E = 1; exact subtraction, used while no E can overflow. Log: -log E, where
// E'_j = E_j - E_T is s'_j = s_j - log(1 - exp(s_j - s_T)) (s_j <= s_T); finite at any spread.
struct LinearResiduals {
  static double from_score(double score, double best_score) { return std::exp(best_score - score); }
  static bool better(double a, double b) { return a < b; }
  static double reduce(double residual, double chosen) { return residual - chosen; }
};

struct LogResiduals {
  static double from_score(double score, double) { return score; }
  static bool better(double a, double b) { return a > b; }
  static double reduce(double residual, double chosen) { return residual - std::log(-std::expm1(residual - chosen)); }
};

template <class Space>
RecursionRun run_general(Recursion& algorithm, const double* scores, const uint8_t* present, double best_score) {
  RecursionRun result;
  const int64_t n = algorithm.num_keys();
  std::vector<double> residual(n);
  for (int64_t j = 0; j < n; ++j) residual[j] = present[j] ? Space::from_score(scores[j], best_score) : 0.0;
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
        if (best < 0 || Space::better(residual[key], residual[best])) best = key;
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
      const double chosen = residual[best];
      for (int64_t i = groups.offsets[g]; i < groups.offsets[g + 1]; ++i) {
        const int64_t key = groups.keys[i];
        if (present[key] && key != best) residual[key] = Space::reduce(residual[key], chosen);
      }
    }
    algorithm.map(argmins.data(), int64_t(argmins.size()));
  }
  return result;
}

}  // namespace

RecursionRun run(Recursion& algorithm, const double* scores, const uint8_t* present) {
  algorithm.reset();
  if (algorithm.single_group() && algorithm.nested()) return run_sorted(algorithm, scores, present);
  double best = -std::numeric_limits<double>::infinity(), worst = std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < algorithm.num_keys(); ++j)
    if (present[j]) {
      best = std::max(best, scores[j]);
      worst = std::min(worst, scores[j]);
    }
  // exp(700) and the sums of such residuals stay below the largest double.
  if (best - worst < 700) return run_general<LinearResiduals>(algorithm, scores, present, best);
  return run_general<LogResiduals>(algorithm, scores, present, best);
}

namespace {

std::string position_message(int64_t position, int64_t key) {
  return "trace[" + std::to_string(position) + "] = " + std::to_string(key) +
         " is not an admissible choice at that step of the recursion";
}

std::string too_short(int64_t length) {
  return "the trace is too short: the recursion needs more than " + std::to_string(length) + " entries";
}

std::string too_long(int64_t position, int64_t length) {
  return "the trace is too long: the recursion ends after " + std::to_string(position) + " entries, got " +
         std::to_string(length);
}

const char* kNoAdmissibleKey = "a step of the recursion has no admissible key (the instance has no structure)";

ReplayStatus invalid(std::string message) { return {false, false, std::move(message)}; }
ReplayStatus incomplete(int64_t length) { return {false, true, too_short(length)}; }

// Single-group layout: K shrinks, so a key leaves at the first level where it is inactive; the
// recursion may say which keys leave, else every key of K is tested at every level.
ReplayStatus replay_single_group(Recursion& algorithm, const int64_t* trace, int64_t length, const uint8_t* present,
                                 TraceProgram& program) {
  const int64_t n = algorithm.num_keys();
  program.single_group = true;
  program.exit_level.assign(n, 0);
  std::vector<int64_t> active = initial_keys(algorithm, present), removed;
  std::vector<uint8_t> in_k(n, 0);
  for (int64_t j : active) in_k[j] = 1;
  int64_t remaining = int64_t(active.size());
  bool tracked = false;  // removed_keys() answered at the last level
  int32_t level = 0;
  auto leave = [&](int64_t j) {
    program.exit_level[j] = level;
    in_k[j] = 0;
    --remaining;
  };
  while (!algorithm.stop()) {
    if (!tracked)
      active.erase(std::remove_if(active.begin(), active.end(),
                                  [&](int64_t j) {
                                    if (!in_k[j]) return true;
                                    if (algorithm.active(j)) return false;
                                    leave(j);
                                    return true;
                                  }),
                   active.end());
    if (remaining == 0) return invalid(kNoAdmissibleKey);
    if (level >= length) return incomplete(length);
    const int64_t chosen = trace[level];
    if (chosen < 0 || chosen >= n || !in_k[chosen] || !algorithm.active(chosen))
      return invalid(position_message(level, chosen));
    program.chosen.push_back(int32_t(chosen));
    ++level;
    algorithm.map(&chosen, 1);
    removed.clear();
    tracked = algorithm.removed_keys(removed);
    for (int64_t j : removed)
      if (in_k[j]) leave(j);
  }
  for (int64_t j = 0; j < n; ++j)
    if (in_k[j]) program.exit_level[j] = level;
  if (level != length) return invalid(too_long(level, length));
  return {};
}

}  // namespace

ReplayStatus replay(Recursion& algorithm, const int64_t* trace, int64_t length, const uint8_t* present,
                    TraceProgram& program) {
  const int64_t n = algorithm.num_keys();
  program = TraceProgram{};
  program.num_keys = n;
  algorithm.reset();
  if (algorithm.single_group()) return replay_single_group(algorithm, trace, length, present, program);
  std::vector<uint8_t> zero(n, 0);
  std::vector<int64_t> argmins;
  int64_t position = 0;
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
      if (program.members.size() == start) return invalid(kNoAdmissibleKey);
      if (position >= length) return incomplete(length);
      const int64_t chosen = trace[position];
      if (std::find(program.members.begin() + start, program.members.end(), chosen) == program.members.end())
        return invalid(position_message(position, chosen));
      program.offsets.push_back(int32_t(program.members.size()));
      program.chosen.push_back(int32_t(chosen));
      zero[chosen] = 1;
      argmins.push_back(chosen);
      ++position;
    }
    algorithm.map(argmins.data(), int64_t(argmins.size()));
  }
  if (position != length) return invalid(too_long(position, length));
  return {};
}

std::vector<EnumeratedTrace> enumerate_traces(Recursion& algorithm, const uint8_t* present, int64_t max_traces) {
  std::vector<EnumeratedTrace> out;
  std::vector<std::vector<int64_t>> prefixes{{}};
  TraceProgram program;
  while (!prefixes.empty()) {
    std::vector<int64_t> prefix = std::move(prefixes.back());
    prefixes.pop_back();
    ReplayStatus status = replay(algorithm, prefix.data(), int64_t(prefix.size()), present, program);
    if (status.ok) {
      if (int64_t(out.size()) == max_traces)
        throw std::length_error("enumerate_traces: more than " + std::to_string(max_traces) + " traces");
      EnumeratedTrace t{prefix, std::vector<double>(algorithm.structure_size(), 0.0)};
      algorithm.combine(t.structure.data());
      out.push_back(std::move(t));
      continue;
    }
    if (!status.incomplete) continue;
    for (int64_t key = algorithm.num_keys() - 1; key >= 0; --key) {
      if (!present[key]) continue;
      prefixes.push_back(prefix);
      prefixes.back().push_back(key);
    }
  }
  return out;
}

}  // namespace structgrad::solvers
