#include "structgrad/ops/ksubset.h"

#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <cmath>
#include <limits>
#include <vector>

#include "structgrad/core/check.h"
#include "structgrad/core/log_space.h"
#include "structgrad/solvers/capped_simplex.h"
#include "structgrad/solvers/correlated_subset.h"

namespace structgrad::ops {
namespace {

using core::log_add;

using core::kNegInf;

// exp(a - total), with exp(-inf) = 0 spelled out so that -inf - -inf never appears.
double weight(double a, double total) { return a == kNegInf ? 0.0 : std::exp(a - total); }

// Runs body(row, z_row, out_row) over the rows of a (rows, n) float64 tensor in parallel; each
// row's output has `width` entries (n unless given).
template <typename Body>
at::Tensor for_each_row(const at::Tensor& z, Body body, int64_t width = -1) {
  at::Tensor in = z.detach().to(at::kDouble).contiguous();
  const int64_t n = in.size(-1), rows = in.numel() / n;
  if (width < 0) width = n;
  std::vector<int64_t> sizes(in.sizes().begin(), in.sizes().end() - 1);
  sizes.push_back(width);
  at::Tensor out = at::empty(sizes, in.options());
  const double* src = in.data_ptr<double>();
  double* dst = out.data_ptr<double>();
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) body(r, src + r * n, dst + r * width);
  });
  return out.to(z.scalar_type());
}

// The k-subset DP of one row in log space. alpha[j][m]: log-weight of the size-m subsets of items [0, j);
// beta[j][m]: of items [j, n). Both (n + 1) x (k + 1).
struct SubsetTables {
  int64_t n, k;
  std::vector<double> alpha, beta;

  SubsetTables(const double* z, int64_t n_, int64_t k_)
      : n(n_), k(k_), alpha((n_ + 1) * (k_ + 1), kNegInf), beta((n_ + 1) * (k_ + 1), kNegInf) {
    alpha[0] = 0;
    for (int64_t j = 1; j <= n; ++j)
      for (int64_t m = 0; m <= k; ++m)
        a(j, m) = log_add(a(j - 1, m), m > 0 ? a(j - 1, m - 1) + z[j - 1] : kNegInf);
    b(n, 0) = 0;
    for (int64_t j = n - 1; j >= 0; --j)
      for (int64_t m = 0; m <= k; ++m)
        b(j, m) = log_add(b(j + 1, m), m > 0 ? b(j + 1, m - 1) + z[j] : kNegInf);
  }

  double& a(int64_t j, int64_t m) { return alpha[j * (k + 1) + m]; }
  double& b(int64_t j, int64_t m) { return beta[j * (k + 1) + m]; }
  double log_partition() { return a(n, k); }

  // log of the weight of the (k-1)-subsets of the other items, for item i.
  double log_others(int64_t i) {
    double total = kNegInf;
    for (int64_t m = 0; m < k; ++m) total = log_add(total, a(i, m) + b(i + 1, k - 1 - m));
    return total;
  }

  // P(x_i = 1) from z_i and log_others(i) (-inf for k = 0, so 0 then).
  double marginal(double z_i, double others) { return std::min(1.0, std::exp(z_i + others - log_partition())); }
};

// grad_z = Cov(x) g, as mu_i (E[<x, g> | x_i = 1] - E[<x, g>]). The conditional expectations
// come from prefix and suffix means of sum g over subsets, weighted like alpha and beta.
void marginals_backward_row(const double* z, const double* g, int64_t n, int64_t k, double* grad) {
  SubsetTables t(z, n, k);
  const int64_t w = k + 1;
  std::vector<double> prefix_mean((n + 1) * w, 0.0), suffix_mean((n + 1) * w, 0.0);
  for (int64_t j = 1; j <= n; ++j)
    for (int64_t m = 0; m <= k; ++m) {
      const double total = t.a(j, m);
      if (total == kNegInf) continue;
      double value = weight(t.a(j - 1, m), total) * prefix_mean[(j - 1) * w + m];
      if (m > 0)
        value += weight(t.a(j - 1, m - 1) + z[j - 1], total) * (prefix_mean[(j - 1) * w + m - 1] + g[j - 1]);
      prefix_mean[j * w + m] = value;
    }
  for (int64_t j = n - 1; j >= 0; --j)
    for (int64_t m = 0; m <= k; ++m) {
      const double total = t.b(j, m);
      if (total == kNegInf) continue;
      double value = weight(t.b(j + 1, m), total) * suffix_mean[(j + 1) * w + m];
      if (m > 0)
        value += weight(t.b(j + 1, m - 1) + z[j], total) * (suffix_mean[(j + 1) * w + m - 1] + g[j]);
      suffix_mean[j * w + m] = value;
    }
  std::vector<double> mu(n), log_others(n);
  double mean_g = 0;
  for (int64_t i = 0; i < n; ++i) {
    log_others[i] = t.log_others(i);
    mu[i] = t.marginal(z[i], log_others[i]);
    mean_g += mu[i] * g[i];
  }
  for (int64_t i = 0; i < n; ++i) {
    if (k == 0 || mu[i] == 0) {
      grad[i] = 0;
      continue;
    }
    const double others = log_others[i];
    double conditional = g[i];
    for (int64_t m = 0; m < k; ++m) {
      const double p = weight(t.a(i, m) + t.b(i + 1, k - 1 - m), others);
      if (p > 0) conditional += p * (prefix_mean[i * w + m] + suffix_mean[(i + 1) * w + k - 1 - m]);
    }
    grad[i] = mu[i] * (conditional - mean_g);
  }
}

// The same DP in linear space, for rows where it is exact: w_i = exp(z_i - c) with c the k-th
// largest z, so that k weights are at least 1 and Z = e_k(w) >= 1. A term that underflows is
// then below 1e-308 of Z, and nothing overflows while C(n, m) w_max^m, the largest any table
// entry gets, stays in range (linear_shift). Every cell is one multiply-add instead of a log_add
// (an exp and a log1p), and the rows of the tables are contiguous in m.
//   alpha[j][m] = e_m(w_0 .. w_{j-1}),   beta[j][m] = e_m(w_j .. w_{n-1}).
struct LinearSubsetTables {
  int64_t n, k;
  double shift;
  std::vector<double> w, alpha, beta;

  LinearSubsetTables(const double* z, int64_t n_, int64_t k_, double shift_)
      : n(n_), k(k_), shift(shift_), w(n_), alpha((n_ + 1) * (k_ + 1), 0.0), beta((n_ + 1) * (k_ + 1), 0.0) {
    for (int64_t i = 0; i < n; ++i) w[i] = std::exp(z[i] - shift);
    const int64_t width = k + 1;
    alpha[0] = 1;
    for (int64_t j = 1; j <= n; ++j) {
      const double* previous = &alpha[(j - 1) * width];
      double* row = &alpha[j * width];
      row[0] = 1;
      for (int64_t m = 1; m <= k; ++m) row[m] = previous[m] + w[j - 1] * previous[m - 1];
    }
    beta[n * width] = 1;
    for (int64_t j = n - 1; j >= 0; --j) {
      const double* next = &beta[(j + 1) * width];
      double* row = &beta[j * width];
      row[0] = 1;
      for (int64_t m = 1; m <= k; ++m) row[m] = next[m] + w[j] * next[m - 1];
    }
  }

  const double* a(int64_t j) const { return &alpha[j * (k + 1)]; }
  const double* b(int64_t j) const { return &beta[j * (k + 1)]; }
  double partition() const { return a(n)[k]; }
  double log_partition() const { return std::log(partition()) + double(k) * shift; }

  // The weight of the (k-1)-subsets of the other items, for item i.
  double others(int64_t i) const {
    double total = 0;
    for (int64_t m = 0; m < k; ++m) total += a(i)[m] * b(i + 1)[k - 1 - m];
    return total;
  }
  // P(x_i = 1) from others(i) (0 for k = 0, so 0 then).
  double marginal(int64_t i, double others) const { return std::min(1.0, w[i] * others / partition()); }

  // grad = Cov(x) g, as in marginals_backward_row, with the prefix and suffix sums of sum g
  // over subsets kept as weighted sums P and Q (not means): P[j][m] = sum over the size-m
  // subsets S of items [0, j) of w^S sum_{s in S} g_s, Q likewise over [j, n).
  void marginals_backward(const double* g, double* grad) const {
    const int64_t width = k + 1;
    std::vector<double> p((n + 1) * width, 0.0), q((n + 1) * width, 0.0);
    for (int64_t j = 1; j <= n; ++j)
      for (int64_t m = 1; m <= k; ++m)
        p[j * width + m] = p[(j - 1) * width + m] +
                           w[j - 1] * (p[(j - 1) * width + m - 1] + g[j - 1] * a(j - 1)[m - 1]);
    for (int64_t j = n - 1; j >= 0; --j)
      for (int64_t m = 1; m <= k; ++m)
        q[j * width + m] = q[(j + 1) * width + m] + w[j] * (q[(j + 1) * width + m - 1] + g[j] * b(j + 1)[m - 1]);
    std::vector<double> mu(n), others_of(n);
    double mean_g = 0;
    for (int64_t i = 0; i < n; ++i) {
      others_of[i] = others(i);
      mu[i] = marginal(i, others_of[i]);
      mean_g += mu[i] * g[i];
    }
    for (int64_t i = 0; i < n; ++i) {
      const double total = others_of[i];
      if (k == 0 || mu[i] == 0 || total == 0) {
        grad[i] = 0;
        continue;
      }
      double through = 0;
      for (int64_t m = 0; m < k; ++m)
        through += p[i * width + m] * b(i + 1)[k - 1 - m] + a(i)[m] * q[(i + 1) * width + k - 1 - m];
      grad[i] = mu[i] * (g[i] + through / total - mean_g);
    }
  }
};

// The shift for linear space, none where a table entry could overflow. The largest entry is
// at most max_m C(n, m) w_max^m over m <= k, with w_max = exp(z_max - c) >= 1.
c10::optional<double> linear_shift(const double* z, int64_t n, int64_t k) {
  if (k == 0) return c10::nullopt;
  std::vector<double> sorted(z, z + n);
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<>());
  const double shift = sorted[k - 1];
  const double largest = *std::max_element(sorted.begin(), sorted.begin() + k);
  const double widest = double(std::min(k, n / 2));
  const double log_binomial =
      std::lgamma(double(n) + 1) - std::lgamma(widest + 1) - std::lgamma(double(n) - widest + 1);
  if (double(k) * (largest - shift) + log_binomial >= 600.0) return c10::nullopt;
  return shift;
}

// Row by row, in linear space where it is exact and in log space otherwise.
double open_log_partition(const double* z, int64_t n, int64_t k) {
  if (const auto shift = linear_shift(z, n, k)) return LinearSubsetTables(z, n, k, *shift).log_partition();
  return SubsetTables(z, n, k).log_partition();
}
void open_marginals(const double* z, int64_t n, int64_t k, double* out) {
  if (const auto shift = linear_shift(z, n, k)) {
    LinearSubsetTables t(z, n, k, *shift);
    for (int64_t i = 0; i < n; ++i) out[i] = t.marginal(i, t.others(i));
    return;
  }
  SubsetTables t(z, n, k);
  for (int64_t i = 0; i < n; ++i) out[i] = t.marginal(z[i], t.log_others(i));
}
void open_marginals_backward(const double* z, const double* g, int64_t n, int64_t k, double* grad) {
  if (const auto shift = linear_shift(z, n, k))
    LinearSubsetTables(z, n, k, *shift).marginals_backward(g, grad);
  else
    marginals_backward_row(z, g, n, k, grad);
}

// The items a row's law leaves no doubt about, decided before the dynamic program. An item more
// than kDecided above the (k+1)-th largest score is in all but a fraction (n - k) e^-kDecided of
// the weight (swap it for an item outside the top k: the weight grows by e^kDecided), so in every
// subset to double precision; one more than kDecided below the k-th largest is in none. The rest
// lie within a window of a few thousand around the k-th largest, and the dynamic program sees them
// shifted by it: its sums of scores keep their precision at any scale (at 1e16 the log 2 of a tie
// is below a score's resolution, so without this two tied items both came out certain).
constexpr double kDecided = 800.0;
struct OpenItems {
  std::vector<int64_t> index;  // the undecided items
  std::vector<double> z;       // their scores minus `shift`
  int64_t k = 0;               // how many of them a subset takes
  double shift = 0;
  double decided_in_score = 0;  // the sum of the scores of the items decided in
  std::vector<char> in;         // per item: decided in
};
OpenItems open_items(const double* z, int64_t n, int64_t k) {
  OpenItems open;
  open.in.assign(n, 0);
  // The k-th and (k+1)-th largest scores, in O(n).
  std::vector<double> order(z, z + n);
  double kth = INFINITY, next = -INFINITY;
  if (k > 0) {
    std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), std::greater<>());
    kth = order[k - 1];
  }
  if (k < n) next = *std::max_element(order.begin() + k, order.end());
  open.shift = k > 0 ? kth : next;
  for (int64_t i = 0; i < n; ++i) {
    if (z[i] - next > kDecided) {
      open.in[i] = 1;
      open.decided_in_score += z[i];
    } else if (kth - z[i] <= kDecided) {
      open.index.push_back(i);
      open.z.push_back(z[i] - open.shift);
    }
  }
  open.k = k - static_cast<int64_t>(std::count(open.in.begin(), open.in.end(), 1));
  return open;
}

// Whether no item can be decided: every score within kDecided of every other (the common case,
// which skips the copies; linear space then shifts by the k-th largest itself).
bool all_open(const double* z, int64_t n) {
  const auto [low, high] = std::minmax_element(z, z + n);
  return *high - *low <= kDecided;
}

double row_log_partition(const double* z, int64_t n, int64_t k) {
  if (all_open(z, n)) return open_log_partition(z, n, k);
  const OpenItems open = open_items(z, n, k);
  const int64_t m = static_cast<int64_t>(open.index.size());
  const double rest = m == 0 ? 0.0 : open_log_partition(open.z.data(), m, open.k) + open.k * open.shift;
  return open.decided_in_score + rest;
}
void row_marginals(const double* z, int64_t n, int64_t k, double* out) {
  if (all_open(z, n)) return open_marginals(z, n, k, out);
  const OpenItems open = open_items(z, n, k);
  const int64_t m = static_cast<int64_t>(open.index.size());
  for (int64_t i = 0; i < n; ++i) out[i] = open.in[i];
  if (m == 0) return;
  std::vector<double> mu(m);
  open_marginals(open.z.data(), m, open.k, mu.data());
  for (int64_t j = 0; j < m; ++j) out[open.index[j]] = mu[j];
}
void row_marginals_backward(const double* z, const double* g, int64_t n, int64_t k, double* grad) {
  if (all_open(z, n)) return open_marginals_backward(z, g, n, k, grad);
  // A decided item does not vary with the scores: its rows of Cov(x) are 0.
  const OpenItems open = open_items(z, n, k);
  const int64_t m = static_cast<int64_t>(open.index.size());
  std::fill(grad, grad + n, 0.0);
  if (m == 0) return;
  std::vector<double> g_open(m), grad_open(m);
  for (int64_t j = 0; j < m; ++j) g_open[j] = g[open.index[j]];
  open_marginals_backward(open.z.data(), g_open.data(), m, open.k, grad_open.data());
  for (int64_t j = 0; j < m; ++j) grad[open.index[j]] = grad_open[j];
}

// A Gibbs distribution over subsets whose dynamic program runs row by row, on rows of `size`
// scores: its log-partition, marginals and the marginals' backward (Cov(x) g).
struct RowLaw {
  double (*log_partition)(const double* z, int64_t size, int64_t k);
  void (*marginals)(const double* z, int64_t size, int64_t k, double* out);
  void (*marginals_backward)(const double* z, const double* g, int64_t size, int64_t k, double* grad);
};

// Independent items: z holds the n item scores.
const RowLaw kIndependentItems = {row_log_partition, row_marginals, row_marginals_backward};

// Correlated items (solvers/correlated_subset.h): z holds n item scores, then n - 1 scores of
// adjacent selected pairs.
int64_t items_of(int64_t size) { return (size + 1) / 2; }
const RowLaw kAdjacentPairs = {
    [](const double* z, int64_t size, int64_t k) {
      return solvers::correlated_subset_log_partition(z, items_of(size), k);
    },
    [](const double* z, int64_t size, int64_t k, double* out) {
      solvers::correlated_subset_marginals(z, items_of(size), k, out);
    },
    [](const double* z, const double* g, int64_t size, int64_t k, double* grad) {
      solvers::correlated_subset_marginals_tangent(z, g, items_of(size), k, grad);
    }};

const RowLaw& row_law(int64_t law) { return law == 0 ? kIndependentItems : kAdjacentPairs; }

at::Tensor marginals_forward(const at::Tensor& z, int64_t k, const RowLaw& law) {
  const int64_t n = z.size(-1);
  return for_each_row(z, [&](int64_t, const double* row, double* out) { law.marginals(row, n, k, out); });
}

at::Tensor marginals_backward(const at::Tensor& z, const at::Tensor& grad_output, int64_t k, const RowLaw& law) {
  const int64_t n = z.size(-1);
  at::Tensor g = grad_output.to(at::kDouble).contiguous().expand_as(z).contiguous();
  const double* g_data = g.data_ptr<double>();
  return for_each_row(z, [&](int64_t r, const double* row, double* out) {
    law.marginals_backward(row, g_data + r * n, n, k, out);
  });
}

// `law` indexes row_law: 0 for independent items, 1 for adjacent pairs.
class MarginalsFunction : public torch::autograd::Function<MarginalsFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& z, int64_t k, int64_t law) {
    ctx->save_for_backward({z});
    ctx->saved_data["k"] = k;
    ctx->saved_data["law"] = law;
    return marginals_forward(z, k, row_law(law));
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    at::Tensor z = ctx->get_saved_variables()[0];
    const RowLaw& law = row_law(ctx->saved_data["law"].toInt());
    return {marginals_backward(z, grads[0], ctx->saved_data["k"].toInt(), law), at::Tensor(), at::Tensor()};
  }
};

class LogPartitionFunction : public torch::autograd::Function<LogPartitionFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& z, int64_t k, int64_t law) {
    ctx->save_for_backward({z});
    ctx->saved_data["k"] = k;
    ctx->saved_data["law"] = law;
    const int64_t n = z.size(-1);
    at::Tensor log_z = for_each_row(
        z, [&](int64_t, const double* row, double* out) { out[0] = row_law(law).log_partition(row, n, k); }, 1);
    return log_z.squeeze(-1);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    at::Tensor z = ctx->get_saved_variables()[0];
    // Through the differentiable marginals, so that log Z can be differentiated twice.
    at::Tensor mu = MarginalsFunction::apply(z, ctx->saved_data["k"].toInt(), ctx->saved_data["law"].toInt());
    return {grads[0].unsqueeze(-1) * mu, at::Tensor(), at::Tensor()};
  }
};

enum class Regularizer { kEuclidean, kCategoricalEntropy, kBinaryEntropy };

Regularizer parse_regularizer(const std::string& name) {
  if (name == "euclidean") return Regularizer::kEuclidean;
  if (name == "categorical_entropy") return Regularizer::kCategoricalEntropy;
  if (name == "binary_entropy") return Regularizer::kBinaryEntropy;
  TORCH_CHECK_VALUE(false, "regularized_topk: regularizer must be \"euclidean\", \"categorical_entropy\" or ",
                    "\"binary_entropy\", got \"", name, "\"");
}

// h of the two entropic regularizers: x_i = h(z_i - nu).
double entropic_h(Regularizer r, double t) {
  if (r == Regularizer::kCategoricalEntropy) return t >= 0 ? 1.0 : std::exp(t);
  return t >= 0 ? 1 / (1 + std::exp(-t)) : std::exp(t) / (1 + std::exp(t));
}

// The threshold nu with sum h(z - nu) = k of an entropic regularizer, for 0 < k < n.
double entropic_threshold(Regularizer r, const double* z, int64_t n, int64_t k) {
  return r == Regularizer::kCategoricalEntropy ? solvers::categorical_entropy_threshold(z, n, k)
                                               : solvers::binary_entropy_threshold(z, n, k);
}

// The regularized argmax of one row, for 0 < k < n, exact for logits of any scale. z is shifted by
// its k-th largest entry (the same argmax: solvers/capped_simplex.h), and the items certain to
// saturate are set to 1 before the solver sees the rest: the threshold nu is at most z_(k) + 1
// (Euclidean) or z_(k) + log n (categorical entropy), or fewer than k units of mass would be left,
// so an item that far above z_(k) is 1. Left in, an item 1e16 above the others has breakpoints
// z_i and z_i - 1 that round to one number, and the solvers lose its unit of mass.
void regularized_topk_row(Regularizer r, const double* z_row, int64_t n, int64_t k, double* x) {
  std::vector<double> shifted(n);
  solvers::shift_by_kth_largest(z_row, n, k, shifted.data());
  const double margin = r == Regularizer::kEuclidean ? 1.0 : std::log(static_cast<double>(n));
  std::vector<int64_t> rest;
  for (int64_t i = 0; i < n; ++i) {
    const bool certain = r != Regularizer::kBinaryEntropy && shifted[i] >= margin;
    x[i] = certain ? 1.0 : 0.0;
    if (!certain) rest.push_back(i);
  }
  const int64_t m = static_cast<int64_t>(rest.size()), k_rest = k - (n - m);
  std::vector<double> z(m), x_rest(m);
  for (int64_t j = 0; j < m; ++j) z[j] = shifted[rest[j]];
  if (r == Regularizer::kEuclidean) {
    solvers::project_onto_capped_simplex(z.data(), m, k_rest, x_rest.data());
  } else {
    const double nu = entropic_threshold(r, z.data(), m, k_rest);
    for (int64_t j = 0; j < m; ++j) x_rest[j] = entropic_h(r, z[j] - nu);
  }
  for (int64_t j = 0; j < m; ++j) x[rest[j]] = x_rest[j];
}

at::Tensor regularized_topk_forward(const at::Tensor& z, int64_t k, Regularizer r) {
  const int64_t n = z.size(-1);
  if (k == 0) return at::zeros_like(z);
  if (k == n) return at::ones_like(z);
  return for_each_row(z, [&](int64_t, const double* row, double* out) { regularized_topk_row(r, row, n, k, out); });
}

// The shared closed-form Jacobian: grad_z = w (g - <w, g> / sum w).
at::Tensor regularized_topk_backward(const at::Tensor& x, const at::Tensor& g, Regularizer r) {
  at::Tensor w;
  switch (r) {
    case Regularizer::kEuclidean: w = ((x > 0) & (x < 1)).to(x.scalar_type()); break;
    case Regularizer::kCategoricalEntropy: w = (x < 1).to(x.scalar_type()) * x; break;
    case Regularizer::kBinaryEntropy: w = x * (1 - x); break;
  }
  at::Tensor w_sum = w.sum(-1, true);
  at::Tensor mean = (w * g).sum(-1, true) / at::where(w_sum > 0, w_sum, at::ones_like(w_sum));
  return w * (g - mean);
}

class RegularizedTopkFunction : public torch::autograd::Function<RegularizedTopkFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& z, int64_t k,
                            int64_t regularizer) {
    at::Tensor x = regularized_topk_forward(z, k, Regularizer(regularizer));
    ctx->save_for_backward({x});
    ctx->saved_data["regularizer"] = regularizer;
    return x;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    at::Tensor x = ctx->get_saved_variables()[0];
    return {regularized_topk_backward(x, grads[0], Regularizer(ctx->saved_data["regularizer"].toInt())),
            at::Tensor(), at::Tensor()};
  }
};

// Newton steps nu <- nu + (sum h(z - nu) - k) / sum w on the threshold, as torch ops from the
// searched root: from the exact root the first step already carries the implicit gradient
// (d nu = w / sum w) and each later one adds terms proportional to the residual, which is at
// rounding level. Three, so that autograd differentiates an iteration run to its fixed point
// (the later steps show it: they leave x and its gradient unchanged) rather than one step;
// each costs an O(n) pass kept for the backward.
constexpr int kUnrolledNewtonSteps = 3;

at::Tensor unrolled_regularized_topk(const at::Tensor& z, int64_t k, Regularizer r) {
  const int64_t n = z.size(-1);
  // x is constant: nothing to unroll, and the threshold would be infinite.
  if (k == 0 || k == n) return RegularizedTopkFunction::apply(z, k, int64_t(r));
  at::Tensor scores = z.to(at::kDouble);
  at::Tensor nu = for_each_row(
      scores, [&](int64_t, const double* row, double* out) { out[0] = entropic_threshold(r, row, n, k); }, 1);
  // exp(min(t, 0)), not min(1, exp(t)): exp overflows to inf above the threshold, and the
  // backward of the clamp would multiply that inf by 0.
  auto h = [r](const at::Tensor& t) {
    return r == Regularizer::kCategoricalEntropy ? at::exp(at::clamp_max(t, 0)) : at::sigmoid(t);
  };
  for (int step = 0; step < kUnrolledNewtonSteps; ++step) {
    at::Tensor x = h(scores - nu);
    at::Tensor w = r == Regularizer::kCategoricalEntropy ? x * (x < 1) : x * (1 - x);
    at::Tensor slope = w.sum(-1, true);
    // Every x exactly 0 or 1: sum x = k holds already and the step is 0.
    nu = nu + (x.sum(-1, true) - double(k)) / at::where(slope > 0, slope, at::ones_like(slope));
  }
  return h(scores - nu).to(z.scalar_type());
}

void check_input(const char* function, const at::Tensor& z, int64_t k) {
  check::logits(function, "z", z, 1);
  check::finite(function, "z", z);
  check::in_range(function, "k", k, 0, z.size(-1));
}

// Correlated subsets' scores: (*batch, 2n - 1), finite, 0 <= k <= n.
void check_correlated_input(const char* function, const at::Tensor& z, int64_t k) {
  check::logits(function, "z", z, 1);
  check::finite(function, "z", z);
  TORCH_CHECK_VALUE(z.size(-1) % 2 == 1, function, ": z must end in 2n - 1 scores (n items, then n - 1 adjacent "
                    "pairs), got ", z.size(-1));
  check::in_range(function, "k", k, 0, items_of(z.size(-1)));
}

}  // namespace

at::Tensor ksubset_log_partition(const at::Tensor& z, int64_t k) {
  check_input("ksubset_log_partition", z, k);
  return LogPartitionFunction::apply(z, k, 0);
}

at::Tensor ksubset_marginals(const at::Tensor& z, int64_t k) {
  check_input("ksubset_marginals", z, k);
  return MarginalsFunction::apply(z, k, 0);
}

at::Tensor regularized_topk(const at::Tensor& z, int64_t k, const std::string& regularizer) {
  check_input("regularized_topk", z, k);
  return RegularizedTopkFunction::apply(z, k, int64_t(parse_regularizer(regularizer)));
}

at::Tensor regularized_topk_unrolled(const at::Tensor& z, int64_t k, const std::string& regularizer) {
  check_input("regularized_topk_unrolled", z, k);
  TORCH_CHECK_VALUE(regularizer == "categorical_entropy" || regularizer == "binary_entropy",
                    "regularized_topk_unrolled: regularizer must be \"categorical_entropy\" or \"binary_entropy\" ",
                    "(the others have no smooth threshold equation to unroll), got \"", regularizer, "\"");
  return unrolled_regularized_topk(z, k, parse_regularizer(regularizer));
}

at::Tensor correlated_subset_log_partition(const at::Tensor& z, int64_t k) {
  check_correlated_input("correlated_subset_log_partition", z, k);
  return LogPartitionFunction::apply(z, k, 1);
}

at::Tensor correlated_subset_marginals(const at::Tensor& z, int64_t k) {
  check_correlated_input("correlated_subset_marginals", z, k);
  return MarginalsFunction::apply(z, k, 1);
}

at::Tensor correlated_subset_map(const at::Tensor& z, int64_t k) {
  check_correlated_input("correlated_subset_map", z, k);
  const int64_t size = z.size(-1);
  return for_each_row(z, [&](int64_t, const double* row, double* out) {
    solvers::correlated_subset_map(row, items_of(size), k, out);
  });
}

}  // namespace structgrad::ops
