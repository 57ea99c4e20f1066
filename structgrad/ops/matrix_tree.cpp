#include "structgrad/ops/matrix_tree.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "structgrad/ops/check.h"

namespace structgrad::ops {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// A number with a tangent, for the Hessian-vector product of the marginals' backward.
struct Dual {
  double v = 0, d = 0;
  Dual() = default;
  Dual(double value) : v(value) {}  // NOLINT: constants promote like doubles
  Dual(double value, double tangent) : v(value), d(tangent) {}
};
Dual operator+(Dual a, Dual b) { return {a.v + b.v, a.d + b.d}; }
Dual operator-(Dual a, Dual b) { return {a.v - b.v, a.d - b.d}; }
Dual operator*(Dual a, Dual b) { return {a.v * b.v, a.d * b.v + a.v * b.d}; }
Dual operator/(Dual a, Dual b) { return {a.v / b.v, (a.d * b.v - a.v * b.d) / (b.v * b.v)}; }
Dual exp(Dual a) {
  const double e = std::exp(a.v);
  return {e, e * a.d};
}
Dual log(Dual a) { return {std::log(a.v), a.d / a.v}; }
double value(double a) { return a; }
double value(const Dual& a) { return a.v; }
using std::exp;
using std::log;

// The elimination in linear space (weights) or in log space (log-weights); `ratio` is always a
// plain linear number in [0, 1].
template <typename N>
struct LinearSpace {
  static N zero() { return N(0.0); }
  static bool is_zero(const N& a) { return value(a) == 0.0; }
  static N from_log(const N& log_weight, double shift) { return exp(log_weight - N(shift)); }
  static N add(const N& a, const N& b) { return a + b; }
  static N multiply(const N& a, const N& b) { return a * b; }
  static N divide(const N& a, const N& b) { return a / b; }
  static N log_of(const N& a) { return log(a); }
  static N ratio(const N& a, const N& b) { return a / b; }
};

template <typename N>
struct LogSpace {
  static N zero() { return N(kNegInf); }
  static bool is_zero(const N& a) { return value(a) == kNegInf; }
  static N from_log(const N& log_weight, double) { return log_weight; }
  static N add(const N& a, const N& b) {
    if (is_zero(a)) return b;
    if (is_zero(b)) return a;
    return value(a) >= value(b) ? a + log(N(1.0) + exp(b - a)) : b + log(N(1.0) + exp(a - b));
  }
  static N multiply(const N& a, const N& b) { return is_zero(a) || is_zero(b) ? zero() : a + b; }
  static N divide(const N& a, const N& b) { return is_zero(a) ? zero() : a - b; }
  static N log_of(const N& a) { return a; }
  static N ratio(const N& a, const N& b) { return is_zero(a) ? N(0.0) : exp(a - b); }
};

// One instance: log Z and, optionally, B[i][j] = d log Z / d theta[i][j] (the directed edge
// marginals). Returns false when some vertex cannot be reached from the root.
template <typename N, typename Space>
bool eliminate(const N* theta, int64_t n, int64_t root, double shift, N& log_z, N* marginals) {
  std::vector<N> w(n * n, Space::zero());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (i != j && j != root && value(theta[i * n + j]) != kNegInf)
        w[i * n + j] = Space::from_log(theta[i * n + j], shift);

  // Vertices are eliminated in index order, the root never: after eliminating v the graph
  // keeps `targets` (the later non-root vertices) and, as edge sources, the root as well.
  std::vector<int64_t> order;
  for (int64_t v = 0; v < n; ++v)
    if (v != root) order.push_back(v);
  auto targets_after = [&](size_t step) {
    return std::vector<int64_t>(order.begin() + int64_t(step) + 1, order.end());
  };
  auto sources_after = [&](size_t step) {
    std::vector<int64_t> sources = targets_after(step);
    sources.push_back(root);
    return sources;
  };
  // Per step: p[i] = w_iv / d_v and q[i][j] = the share of the new w_ij that came through v.
  std::vector<N> p, q;
  if (marginals) {
    p.assign((n - 1) * n, N(0.0));
    q.assign((n - 1) * n * n, N(0.0));
  }
  log_z = N(0.0);
  for (size_t step = 0; step < order.size(); ++step) {
    const int64_t v = order[step];
    const std::vector<int64_t> targets = targets_after(step), sources = sources_after(step);
    N pivot = Space::zero();
    for (int64_t i : sources) pivot = Space::add(pivot, w[i * n + v]);
    if (Space::is_zero(pivot)) return false;
    log_z = log_z + Space::log_of(pivot);
    const N* from_v = w.data() + v * n;
    for (int64_t i : sources) {
      if (marginals) p[step * n + i] = Space::ratio(w[i * n + v], pivot);
      if (Space::is_zero(w[i * n + v])) continue;
      const N share_of_pivot = Space::divide(w[i * n + v], pivot);
      N* from_i = w.data() + i * n;
      N* q_i = marginals ? q.data() + (step * n + i) * n : nullptr;
      for (int64_t j : targets) {
        if (j == i || Space::is_zero(from_v[j])) continue;
        const N through = Space::multiply(share_of_pivot, from_v[j]);
        const N updated = Space::add(from_i[j], through);
        if (q_i) q_i[j] = Space::ratio(through, updated);
        from_i[j] = updated;
      }
    }
  }
  if (!marginals) return true;

  // Reverse pass. B holds d log Z / d log w for the entries of the current graph.
  std::vector<N> b(n * n, N(0.0));
  std::vector<N> from(n), into(n);
  for (size_t step = order.size(); step-- > 0;) {
    const int64_t v = order[step];
    const std::vector<int64_t> targets = targets_after(step), sources = sources_after(step);
    const N* qs = q.data() + step * n * n;
    std::fill(from.begin(), from.end(), N(0.0));
    std::fill(into.begin(), into.end(), N(0.0));
    N through_v(0.0);
    for (int64_t i : sources) {
      for (int64_t j : targets) {
        if (j == i) continue;
        const N share = b[i * n + j] * qs[i * n + j];
        from[i] = from[i] + share;
        into[j] = into[j] + share;
        through_v = through_v + share;
        b[i * n + j] = b[i * n + j] - share;
      }
    }
    for (int64_t i : sources) b[i * n + v] = p[step * n + i] * (N(1.0) - through_v) + from[i];
    for (int64_t j : targets) b[v * n + j] = into[j];
  }
  for (int64_t k = 0; k < n * n; ++k) marginals[k] = b[k];
  return true;
}

// Linear space is exact unless a product of up to n - 1 shifted weights can underflow.
template <typename N>
bool eliminate_instance(const N* theta, int64_t n, int64_t root, N& log_z, N* marginals) {
  double hi = kNegInf, lo = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double t = value(theta[i * n + j]);
      if (i == j || j == root || t == kNegInf) continue;
      hi = std::max(hi, t);
      lo = std::min(lo, t);
    }
  // No edge at all: a lone root has one (empty) arborescence, anything larger has none.
  if (hi == kNegInf) return eliminate<N, LogSpace<N>>(theta, n, root, 0.0, log_z, marginals);
  if ((hi - lo) * double(n - 1) < 600.0) {
    const bool ok = eliminate<N, LinearSpace<N>>(theta, n, root, hi, log_z, marginals);
    log_z = log_z + N(double(n - 1) * hi);
    return ok;
  }
  return eliminate<N, LogSpace<N>>(theta, n, root, 0.0, log_z, marginals);
}

[[noreturn]] void unreachable(bool directed, int64_t root) {
  if (directed)
    TORCH_CHECK_VALUE(false, "matrix_tree: some vertex cannot be reached from the root ", root,
                      " through edges with finite weight: no spanning arborescence exists");
  TORCH_CHECK_VALUE(false, "matrix_tree: the graph is disconnected (no spanning tree exists)");
}

// The log-weights the elimination reads: an undirected graph is read as (theta + theta^T) / 2,
// so that each edge has one weight whichever triangle the caller's gradient lands in.
at::Tensor edge_log_weights(const at::Tensor& theta, bool directed) {
  at::Tensor t = theta.to(at::kDouble);
  return (directed ? t : (t + t.transpose(-1, -2)) / 2).contiguous();
}

// Runs the elimination over the batch: returns log Z (*batch) and, when asked, the marginals.
std::pair<at::Tensor, at::Tensor> run(const at::Tensor& theta, bool directed, int64_t root, bool want_marginals) {
  at::Tensor t = edge_log_weights(theta, directed);
  const int64_t n = t.size(-1), instances = t.numel() / (n * n);
  at::Tensor log_z = at::empty({instances}, t.options());
  at::Tensor marginals = want_marginals ? at::empty_like(t) : at::Tensor();
  std::atomic<bool> failed{false};
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      double* out = want_marginals ? marginals.data_ptr<double>() + b * n * n : nullptr;
      if (!eliminate_instance<double>(t.data_ptr<double>() + b * n * n, n, root, log_z.data_ptr<double>()[b], out))
        failed = true;
    }
  });
  if (failed) unreachable(directed, root);
  const auto batch = theta.sizes().slice(0, theta.dim() - 2);
  log_z = log_z.view(batch).to(theta.scalar_type());
  if (want_marginals) {
    if (!directed) marginals = marginals + marginals.transpose(-1, -2);
    marginals = marginals.to(theta.scalar_type());
  }
  return {log_z, marginals};
}

// d marginals . g: the Hessian of log Z applied to g, by the elimination on dual numbers.
at::Tensor marginals_backward(const at::Tensor& theta, const at::Tensor& grad, bool directed, int64_t root) {
  at::Tensor t = edge_log_weights(theta, directed);
  at::Tensor g = grad.to(at::kDouble).expand_as(theta).contiguous();
  // Undirected marginals are B + B^T of the symmetrized weights, so their vector-Jacobian
  // product is sym(H (g + g^T)).
  if (!directed) g = (g + g.transpose(-1, -2)).contiguous();
  const int64_t n = t.size(-1), instances = t.numel() / (n * n);
  at::Tensor out = at::empty_like(t);
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    std::vector<Dual> in(n * n), marginals(n * n);
    for (int64_t b = begin; b < end; ++b) {
      const double* tv = t.data_ptr<double>() + b * n * n;
      const double* gv = g.data_ptr<double>() + b * n * n;
      for (int64_t k = 0; k < n * n; ++k) in[k] = Dual(tv[k], std::isfinite(tv[k]) ? gv[k] : 0.0);
      Dual log_z;
      eliminate_instance<Dual>(in.data(), n, root, log_z, marginals.data());
      double* o = out.data_ptr<double>() + b * n * n;
      for (int64_t k = 0; k < n * n; ++k) o[k] = marginals[k].d;
    }
  });
  if (!directed) out = (out + out.transpose(-1, -2)) / 2;
  return out.to(theta.scalar_type());
}

// What both autograd Functions keep for their backward: theta and the kind of graph.
struct Graph {
  at::Tensor theta;
  bool directed;
  int64_t root;

  void save(torch::autograd::AutogradContext* ctx) const {
    ctx->save_for_backward({theta});
    ctx->saved_data["directed"] = directed;
    ctx->saved_data["root"] = root;
  }
  static Graph load(torch::autograd::AutogradContext* ctx) {
    return {ctx->get_saved_variables()[0], ctx->saved_data["directed"].toBool(), ctx->saved_data["root"].toInt()};
  }
};

class MarginalsFunction : public torch::autograd::Function<MarginalsFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& theta, bool directed,
                            int64_t root) {
    Graph{theta, directed, root}.save(ctx);
    return run(theta, directed, root, true).second;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const Graph g = Graph::load(ctx);
    return {marginals_backward(g.theta, grads[0], g.directed, g.root), at::Tensor(), at::Tensor()};
  }
};

class LogPartitionFunction : public torch::autograd::Function<LogPartitionFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& theta, bool directed,
                            int64_t root) {
    Graph{theta, directed, root}.save(ctx);
    return run(theta, directed, root, false).first;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const Graph g = Graph::load(ctx);
    at::Tensor mu = MarginalsFunction::apply(g.theta, g.directed, g.root);
    // An undirected edge's marginal is shared by its two entries.
    if (!g.directed) mu = mu / 2;
    return {grads[0].unsqueeze(-1).unsqueeze(-1) * mu, at::Tensor(), at::Tensor()};
  }
};

void check_input(const char* function, const at::Tensor& theta, int64_t root) {
  check::logits(function, "theta", theta, 2);
  TORCH_CHECK_VALUE(theta.size(-1) == theta.size(-2), function, ": theta must be square (*batch, n, n), got ",
                    check::shape_string(theta.sizes()));
  TORCH_CHECK_VALUE(!(theta == INFINITY).any().item<bool>(), function, ": theta contains +inf");
  check::in_range(function, "root", root, 0, theta.size(-1) - 1);
}

}  // namespace

at::Tensor matrix_tree_log_partition(const at::Tensor& theta, bool directed, int64_t root) {
  check_input("matrix_tree_log_partition", theta, root);
  return LogPartitionFunction::apply(theta, directed, root);
}

at::Tensor matrix_tree_marginals(const at::Tensor& theta, bool directed, int64_t root) {
  check_input("matrix_tree_marginals", theta, root);
  return MarginalsFunction::apply(theta, directed, root);
}

}  // namespace structgrad::ops
