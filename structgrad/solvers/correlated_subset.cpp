#include "structgrad/solvers/correlated_subset.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "structgrad/core/log_space.h"

namespace structgrad::solvers {
namespace {

using core::kNegInf;

// log w of a table entry with its derivative along the direction v: the derivative of a log-sum
// is the weighted mean of the terms' derivatives, which is what makes the tangent pass the
// expectation semiring.
struct LogDual {
  double log = kNegInf;
  double tangent = 0;
};

LogDual plus(LogDual a, LogDual b) {
  if (a.log < b.log) std::swap(a, b);
  if (b.log == kNegInf) return a;
  const double r = std::exp(b.log - a.log);
  return {a.log + std::log1p(r), (a.tangent + r * b.tangent) / (1 + r)};
}

LogDual times(LogDual a, double score, double direction) {
  if (a.log == kNegInf) return a;
  return {a.log + score, a.tangent + direction};
}

// The forward and backward tables of one instance, indexed (item i, count c, item i selected s):
//   forward(i, c, s):  the structures of items 0..i (and pairs among them) with c selected
//   backward(i, c, s): the completions of items i+1..n-1 (and the pairs from i on) that reach k
//                      from c selected with item i in state s
// With v = nullptr every tangent is 0.
class Tables {
 public:
  Tables(const double* theta, const double* v, int64_t n, int64_t k)
      : theta_(theta), v_(v), n_(n), k_(k), forward_(n * (k + 1) * 2), backward_(n * (k + 1) * 2) {
    forward(0, 0, 0) = {0, 0};
    if (k >= 1) forward(0, 1, 1) = {theta[0], direction(0)};
    for (int64_t i = 1; i < n; ++i)
      for (int64_t c = 0; c <= k; ++c) {
        forward(i, c, 0) = plus(forward(i - 1, c, 0), forward(i - 1, c, 1));
        if (c == 0) continue;
        const LogDual joined = times(forward(i - 1, c - 1, 1), pair(i - 1), direction(pair_index(i - 1)));
        forward(i, c, 1) = times(plus(forward(i - 1, c - 1, 0), joined), theta[i], direction(i));
      }
    backward(n - 1, k, 0) = backward(n - 1, k, 1) = {0, 0};
    for (int64_t i = n - 2; i >= 0; --i)
      for (int64_t c = 0; c <= k; ++c)
        for (int s = 0; s < 2; ++s) {
          LogDual next_selected;
          if (c < k) {
            const double score = theta[i + 1] + (s ? pair(i) : 0);
            const double along = direction(i + 1) + (s ? direction(pair_index(i)) : 0);
            next_selected = times(backward(i + 1, c + 1, 1), score, along);
          }
          backward(i, c, s) = plus(backward(i + 1, c, 0), next_selected);
        }
    total_ = plus(forward(n - 1, k, 0), forward(n - 1, k, 1));
  }

  LogDual total() const { return total_; }

  // E[z] (tangent = false) or Cov(z) v (tangent = true) into out.
  void moments(bool tangent, double* out) const {
    for (int64_t i = 0; i < n_; ++i) {
      double sum = 0;
      for (int64_t c = 1; c <= k_; ++c) sum += term(forward(i, c, 1), backward(i, c, 1), 0, 0, tangent);
      out[i] = tangent ? sum : std::min(1.0, sum);
    }
    for (int64_t i = 0; i + 1 < n_; ++i) {
      double sum = 0;
      const double score = pair(i) + theta_[i + 1];
      const double along = direction(pair_index(i)) + direction(i + 1);
      for (int64_t c = 1; c < k_; ++c) sum += term(forward(i, c, 1), backward(i + 1, c + 1, 1), score, along, tangent);
      out[pair_index(i)] = tangent ? sum : std::min(1.0, sum);
    }
  }

 private:
  // The probability of the structures through a forward and a backward entry joined by `score`,
  // or its derivative along v.
  double term(LogDual f, LogDual b, double score, double along, bool tangent) const {
    if (f.log == kNegInf || b.log == kNegInf) return 0;
    const double p = std::exp(f.log + score + b.log - total_.log);
    return tangent ? p * (f.tangent + along + b.tangent - total_.tangent) : p;
  }

  int64_t pair_index(int64_t i) const { return n_ + i; }
  double pair(int64_t i) const { return theta_[pair_index(i)]; }
  double direction(int64_t index) const { return v_ ? v_[index] : 0; }
  LogDual& forward(int64_t i, int64_t c, int s) { return forward_[(i * (k_ + 1) + c) * 2 + s]; }
  LogDual& backward(int64_t i, int64_t c, int s) { return backward_[(i * (k_ + 1) + c) * 2 + s]; }
  const LogDual& forward(int64_t i, int64_t c, int s) const { return forward_[(i * (k_ + 1) + c) * 2 + s]; }
  const LogDual& backward(int64_t i, int64_t c, int s) const { return backward_[(i * (k_ + 1) + c) * 2 + s]; }

  const double* theta_;
  const double* v_;
  int64_t n_, k_;
  std::vector<LogDual> forward_, backward_;
  LogDual total_;
};

}  // namespace

void correlated_subset_map(const double* theta, int64_t n, int64_t k, double* x) {
  // best(i, c, s) as Tables' forward with max for log-sum; from(i, c, s): item i-1's state on the
  // best path into (i, c, s).
  const int64_t width = (k + 1) * 2;
  std::vector<double> best(n * width, kNegInf);
  std::vector<char> from(n * width, 0);
  auto at = [&](int64_t i, int64_t c, int s) { return (i * (k + 1) + c) * 2 + s; };
  best[at(0, 0, 0)] = 0;
  if (k >= 1) best[at(0, 1, 1)] = theta[0];
  for (int64_t i = 1; i < n; ++i)
    for (int64_t c = 0; c <= k; ++c) {
      const double off = best[at(i - 1, c, 0)], on = best[at(i - 1, c, 1)];
      best[at(i, c, 0)] = std::max(off, on);
      from[at(i, c, 0)] = on > off;
      if (c == 0) continue;
      const double after_off = best[at(i - 1, c - 1, 0)];
      const double after_on = best[at(i - 1, c - 1, 1)] + theta[n + i - 1];
      best[at(i, c, 1)] = std::max(after_off, after_on) + theta[i];
      from[at(i, c, 1)] = after_on > after_off;
    }
  std::fill(x, x + correlated_subset_size(n), 0.0);
  int s = best[at(n - 1, k, 1)] > best[at(n - 1, k, 0)];
  int64_t c = k;
  for (int64_t i = n - 1; i >= 0; --i) {
    x[i] = s;
    const int previous = from[at(i, c, s)];
    if (i > 0 && s && previous) x[n + i - 1] = 1;
    c -= s;
    s = previous;
  }
}

double correlated_subset_log_partition(const double* theta, int64_t n, int64_t k) {
  return Tables(theta, nullptr, n, k).total().log;
}

void correlated_subset_marginals(const double* theta, int64_t n, int64_t k, double* mu) {
  Tables(theta, nullptr, n, k).moments(false, mu);
}

void correlated_subset_marginals_tangent(const double* theta, const double* v, int64_t n, int64_t k, double* out) {
  Tables(theta, v, n, k).moments(true, out);
}

}  // namespace structgrad::solvers
