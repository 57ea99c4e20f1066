#include "structgrad/ops/matrix_tree.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "structgrad/ops/check.h"
#include "structgrad/solvers/vector_clones.h"

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
Dual exp(Dual a) {
  const double e = std::exp(a.v);
  return {e, e * a.d};
}
Dual log(Dual a) { return {std::log(a.v), a.d / a.v}; }
double value(double a) { return a; }
double value(const Dual& a) { return a.v; }
using std::exp;
using std::log;

// Log-space arithmetic for the elimination when the weights' spread would underflow linear
// space; `ratio` is a plain linear number in [0, 1].
template <typename N>
struct LogSpace {
  static N zero() { return N(kNegInf); }
  static bool is_zero(const N& a) { return value(a) == kNegInf; }
  static N add(const N& a, const N& b) {
    if (is_zero(a)) return b;
    if (is_zero(b)) return a;
    return value(a) >= value(b) ? a + log(N(1.0) + exp(b - a)) : b + log(N(1.0) + exp(a - b));
  }
  static N multiply(const N& a, const N& b) { return is_zero(a) || is_zero(b) ? zero() : a + b; }
  static N divide(const N& a, const N& b) { return is_zero(a) ? zero() : a - b; }
  static N ratio(const N& a, const N& b) { return is_zero(a) ? N(0.0) : exp(a - b); }
};

// One instance in log space: log Z and, optionally, B[i][j] = d log Z / d theta[i][j] (the
// directed edge marginals). Returns false when some vertex cannot be reached from the root.
template <typename N>
bool eliminate_in_log_space(const N* theta, int64_t n, int64_t root, N& log_z, N* marginals) {
  using Space = LogSpace<N>;
  std::vector<N> w(n * n, Space::zero());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (i != j && j != root && value(theta[i * n + j]) != kNegInf) w[i * n + j] = theta[i * n + j];

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
    log_z = log_z + pivot;
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

// The linear elimination's loops are axpys over rows of up to n doubles, compiled for
// x86-64-v3 as well (STRUCTGRAD_VECTOR_CLONES).
// y += a * x over `length` entries.
inline void axpy(double a, const double* __restrict x, double* __restrict y, int64_t length) {
  for (int64_t k = 0; k < length; ++k) y[k] += a * x[k];
}

// y += a * x + b * z over `length` entries.
inline void axpy2(double a, const double* __restrict x, double b, const double* __restrict z, double* __restrict y,
                  int64_t length) {
  for (int64_t k = 0; k < length; ++k) y[k] += a * x[k] + b * z[k];
}

// sum_k column[k * stride] * y[k] over `length` entries (y = nullptr: all ones), in four
// interleaved partial sums: with one running sum the loop waits on each addition in turn.
inline double column_dot(const double* column, int64_t stride, const double* y, int64_t length) {
  double partial[4] = {0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 4 <= length; k += 4)
    for (int64_t lane = 0; lane < 4; ++lane)
      partial[lane] += column[(k + lane) * stride] * (y ? y[k + lane] : 1.0);
  for (; k < length; ++k) partial[0] += column[k * stride] * (y ? y[k] : 1.0);
  return (partial[0] + partial[1]) + (partial[2] + partial[3]);
}

// The elimination in linear space on max-shifted weights, its reverse pass (the marginals) and
// the tangent of both (the marginals' backward, a Hessian-vector product), for one instance at
// a time. What the forward leaves in an instance's `state` block is all the tangent reads, so
// the backward does not repeat the forward; scratch buffers are reused across the instances a
// thread runs.
//
// Positions are the vertices renumbered with the root last, so that step v eliminates position
// v and the graph after it has the sources v+1..n-1 and the targets v+1..n-2: contiguous rows
// that every inner loop runs over, branch-free. Row v and column v are final once step v has
// read them, so the matrix left by the elimination holds every step's inputs. The diagonal
// collects harmless junk: no step reads it.
//
// The reverse pass carries adj = d log Z / d w (linear weights) rather than the log-domain
// marginals: an entry's update w_ij += w_iv w_vj / d_v passes its adjoint through unchanged,
// so each entry's adjoint is set once, the step needs no stored ratios, and the marginals are
// w0 * adj at the end. With A_i = sum_j adj_ij w_vj, C_j = sum_i adj_ij w_iv, T = sum_i w_iv A_i:
//   adj_vj = C_j / d_v,   adj_iv = (A_i + 1 - T / d_v) / d_v.
// A and C are accumulated as axpys over transposed and plain copies of adj, never as dot
// products, so that they vectorize without reassociating sums. Each step divides by its pivot
// O(n) times, as a multiplication by the pivot's reciprocal: a division costs several
// multiplications' time and does not pipeline as well.
class LinearElimination {
 public:
  // Doubles per instance: w0, w, adj and each step's A (n x n each), the pivots and each
  // step's T (n each), the shift (NaN: the instance ran in log space).
  static int64_t state_size(int64_t n) { return 4 * n * n + 2 * n + 1; }

  // Works on `state` (state_size(n) doubles) from now on.
  void attach(double* state, int64_t n, int64_t root) {
    n_ = n;
    w0_ = state;
    w_ = w0_ + n * n;
    adj_ = w_ + n * n;
    a_ = adj_ + n * n;
    pivot_ = a_ + n * n;
    t_ = pivot_ + n;
    shift_ = t_ + n;
    root_ = root;
  }

  static bool ran_in_log_space(const double* state, int64_t n) { return std::isnan(state[state_size(n) - 1]); }
  void mark_log_space() { *shift_ = std::numeric_limits<double>::quiet_NaN(); }

  // Eliminates theta (n x n, original numbering) shifted by `shift`; false when some vertex
  // cannot be reached from the root. With `symmetric` theta (undirected graphs), the weights
  // among non-root positions are mirrored instead of exponentiated twice.
  STRUCTGRAD_VECTOR_CLONES bool eliminate(const double* theta, double shift, bool symmetric) {
    const int64_t n = n_;
    *shift_ = shift;
    to_positions(theta, w0_);
    for (int64_t a = 0; a < n; ++a)
      for (int64_t b = 0; b < n; ++b) {
        double& w = w0_[a * n + b];
        if (symmetric && b < a && a < n - 1)
          w = w0_[b * n + a];
        else
          w = a != b && b != n - 1 && w != kNegInf ? std::exp(w - shift) : 0.0;
        w_[a * n + b] = w;
      }
    for (int64_t v = 0; v + 1 < n; ++v) {
      const double d = column_dot(&w_[(v + 1) * n + v], n, nullptr, n - 1 - v);
      if (!(d > 0)) return false;
      pivot_[v] = d;
      const double inverse = 1 / d;
      const double* row_v = &w_[v * n + v + 1];
      for (int64_t i = v + 1; i < n; ++i) {
        const double share = w_[i * n + v] * inverse;
        if (share != 0) axpy(share, row_v, &w_[i * n + v + 1], n - 2 - v);
      }
    }
    return true;
  }

  double log_z() const {
    double sum = double(n_ - 1) * *shift_;
    for (int64_t v = 0; v + 1 < n_; ++v) sum += std::log(pivot_[v]);
    return sum;
  }

  // Fills adj (and its transpose), and keeps each step's A and T for the tangent.
  STRUCTGRAD_VECTOR_CLONES void reverse() {
    const int64_t n = n_;
    std::fill(adj_, adj_ + 2 * n * n, 0.0);  // adj, A
    adj_t_.assign(n * n, 0.0);
    column_.resize(n);
    for (int64_t v = n - 2; v >= 0; --v) {
      const int64_t sources = n - 1 - v, targets = n - 2 - v;
      double* a = &a_[v * n + v + 1];
      double* c = &column_[v + 1];
      std::fill(c, c + targets, 0.0);
      for (int64_t j = v + 1; j < n - 1; ++j) axpy(w_[v * n + j], &adj_t_[j * n + v + 1], a, sources);
      for (int64_t i = v + 1; i < n; ++i) axpy(w_[i * n + v], &adj_[i * n + v + 1], c, targets);
      const double inverse = 1 / pivot_[v];
      const double t = column_dot(&w_[(v + 1) * n + v], n, a, sources);
      t_[v] = t;
      const double through = 1 - t * inverse;
      for (int64_t k = 0; k < targets; ++k) adj_[v * n + v + 1 + k] = adj_t_[(v + 1 + k) * n + v] = c[k] * inverse;
      for (int64_t k = 0; k < sources; ++k)
        adj_[(v + 1 + k) * n + v] = adj_t_[v * n + v + 1 + k] = (a[k] + through) * inverse;
    }
  }

  // The marginals w0 * adj in the original numbering.
  void write_marginals(double* out) {
    product_.resize(n_ * n_);
    for (int64_t k = 0; k < n_ * n_; ++k) product_[k] = w0_[k] * adj_[k];
    from_positions(product_.data(), out);
  }

  // The tangent of the marginals along the log-weight direction g (original numbering), from
  // the state eliminate and reverse left: the Hessian of log Z applied to g.
  STRUCTGRAD_VECTOR_CLONES void tangent(const double* g, double* out) {
    const int64_t n = n_;
    adj_t_.resize(n * n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) adj_t_[j * n + i] = adj_[i * n + j];
    direction_.resize(n * n);
    to_positions(g, direction_.data());
    // Forward: w_ij += s_i w_vj with s_i = w_iv / d_v, so w'_ij += s'_i w_vj + s_i w'_vj.
    wd_.resize(n * n);
    for (int64_t k = 0; k < n * n; ++k) wd_[k] = w0_[k] * direction_[k];
    pivot_tangent_.resize(n);
    for (int64_t v = 0; v + 1 < n; ++v) {
      const double inverse = 1 / pivot_[v];
      const double dd = column_dot(&wd_[(v + 1) * n + v], n, nullptr, n - 1 - v);
      pivot_tangent_[v] = dd;
      for (int64_t i = v + 1; i < n; ++i) {
        const double share = w_[i * n + v] * inverse, share_tangent = (wd_[i * n + v] - share * dd) * inverse;
        axpy2(share_tangent, &w_[v * n + v + 1], share, &wd_[v * n + v + 1], &wd_[i * n + v + 1], n - 2 - v);
      }
    }
    // Reverse: the tangents of A, C, T and of the two adjoint formulas.
    adjd_.assign(n * n, 0.0);
    adjd_t_.assign(n * n, 0.0);
    a_tangent_.resize(n);
    column_tangent_.resize(n);
    for (int64_t v = n - 2; v >= 0; --v) {
      const int64_t sources = n - 1 - v, targets = n - 2 - v;
      double* ad = &a_tangent_[v + 1];
      double* cd = &column_tangent_[v + 1];
      std::fill(ad, ad + sources, 0.0);
      std::fill(cd, cd + targets, 0.0);
      for (int64_t j = v + 1; j < n - 1; ++j)
        axpy2(w_[v * n + j], &adjd_t_[j * n + v + 1], wd_[v * n + j], &adj_t_[j * n + v + 1], ad, sources);
      for (int64_t i = v + 1; i < n; ++i)
        axpy2(w_[i * n + v], &adjd_[i * n + v + 1], wd_[i * n + v], &adj_[i * n + v + 1], cd, targets);
      const double inverse = 1 / pivot_[v], dd = pivot_tangent_[v], t = t_[v];
      const double* a = &a_[v * n + v + 1];
      const double td =
          column_dot(&wd_[(v + 1) * n + v], n, a, sources) + column_dot(&w_[(v + 1) * n + v], n, ad, sources);
      const double through_tangent = -(td - t * dd * inverse) * inverse;
      for (int64_t k = 0; k < targets; ++k)
        adjd_[v * n + v + 1 + k] = adjd_t_[(v + 1 + k) * n + v] = (cd[k] - adj_[v * n + v + 1 + k] * dd) * inverse;
      for (int64_t k = 0; k < sources; ++k)
        adjd_[(v + 1 + k) * n + v] = adjd_t_[v * n + v + 1 + k] =
            (ad[k] + through_tangent - adj_[(v + 1 + k) * n + v] * dd) * inverse;
    }
    // marginals = w0 * adj, and w0' = w0 * g.
    product_.resize(n * n);
    for (int64_t k = 0; k < n * n; ++k) product_[k] = w0_[k] * (direction_[k] * adj_[k] + adjd_[k]);
    from_positions(product_.data(), out);
  }

 private:
  // Positions 0..root-1 are vertices 0..root-1, positions root..n-2 vertices root+1..n-1, and
  // position n-1 the root: two contiguous runs per row.
  void to_positions(const double* original, double* positioned) const {
    const int64_t n = n_, r = root_;
    for (int64_t a = 0; a < n; ++a) {
      const double* row = original + (a < r ? a : a < n - 1 ? a + 1 : r) * n;
      double* out = positioned + a * n;
      std::copy(row, row + r, out);
      std::copy(row + r + 1, row + n, out + r);
      out[n - 1] = row[r];
    }
  }
  void from_positions(const double* positioned, double* original) const {
    const int64_t n = n_, r = root_;
    for (int64_t a = 0; a < n; ++a) {
      const double* in = positioned + a * n;
      double* row = original + (a < r ? a : a < n - 1 ? a + 1 : r) * n;
      std::copy(in, in + r, row);
      std::copy(in + r, in + n - 1, row + r + 1);
      row[r] = in[n - 1];
    }
  }

  int64_t n_ = 0, root_ = 0;
  double *w0_ = nullptr, *w_ = nullptr, *adj_ = nullptr, *a_ = nullptr, *pivot_ = nullptr, *t_ = nullptr,
         *shift_ = nullptr;
  std::vector<double> adj_t_, column_, product_, direction_, wd_, pivot_tangent_, adjd_, adjd_t_, a_tangent_, column_tangent_;
};

// The shift for linear space, which is exact unless a product of up to n - 1 shifted weights
// can underflow; none when the elimination must run in log space.
c10::optional<double> linear_shift(const double* theta, int64_t n, int64_t root) {
  double hi = kNegInf, lo = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double t = theta[i * n + j];
      if (i == j || j == root || t == kNegInf) continue;
      hi = std::max(hi, t);
      lo = std::min(lo, t);
    }
  // No edge at all (a lone root has one, empty, arborescence; anything larger none): log space.
  if (hi == kNegInf || (hi - lo) * double(n - 1) >= 600.0) return c10::nullopt;
  return hi;
}

// m_ij = m_ji = (m_ij + m_ji) * scale: the undirected form of a directed quantity.
void symmetrize(double* m, int64_t n, double scale) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) m[i * n + j] = m[j * n + i] = (m[i * n + j] + m[j * n + i]) * scale;
}

// The log-weights the elimination reads, instance by instance (no batch-sized temporary): an
// undirected graph is read as (theta + theta^T) / 2, so that each edge has one weight
// whichever triangle the caller's gradient lands in; written to `buffer` then.
const double* edge_log_weights(const double* theta, int64_t n, bool directed, std::vector<double>& buffer) {
  if (directed) return theta;
  buffer.resize(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) buffer[i * n + j] = (theta[i * n + j] + theta[j * n + i]) / 2;
  return buffer.data();
}

// One instance: log Z and, when `marginals` is given, the marginals, leaving in `linear`'s
// state what the backward needs. False when some vertex cannot be reached from the root.
bool forward_instance(LinearElimination& linear, const double* theta, int64_t n, int64_t root, bool directed,
                      double& log_z, double* marginals) {
  const auto shift = linear_shift(theta, n, root);
  if (!shift) {
    linear.mark_log_space();
    return eliminate_in_log_space<double>(theta, n, root, log_z, marginals);
  }
  if (!linear.eliminate(theta, *shift, !directed)) return false;
  log_z = linear.log_z();
  if (marginals) {
    linear.reverse();
    linear.write_marginals(marginals);
  }
  return true;
}

// One instance of the marginals' backward: the Hessian of log Z applied to g, by the tangent
// pass over the forward's state in linear space, by dual numbers in log space.
void backward_instance(LinearElimination& linear, const double* state, const double* input, bool directed,
                       std::vector<double>& buffer, const double* g, int64_t n, int64_t root, double* out) {
  if (!LinearElimination::ran_in_log_space(state, n)) {
    linear.tangent(g, out);
    return;
  }
  const double* theta = edge_log_weights(input, n, directed, buffer);
  std::vector<Dual> in(n * n), marginals(n * n);
  for (int64_t k = 0; k < n * n; ++k) in[k] = Dual(theta[k], std::isfinite(theta[k]) ? g[k] : 0.0);
  Dual log_z;
  eliminate_in_log_space<Dual>(in.data(), n, root, log_z, marginals.data());
  for (int64_t k = 0; k < n * n; ++k) out[k] = marginals[k].d;
}

[[noreturn]] void unreachable(bool directed, int64_t root) {
  if (directed)
    TORCH_CHECK_VALUE(false, "matrix_tree: some vertex cannot be reached from the root ", root,
                      " through edges with finite weight: no spanning arborescence exists");
  TORCH_CHECK_VALUE(false, "matrix_tree: the graph is disconnected (no spanning tree exists)");
}

// Runs the elimination over the batch: log Z (*batch), the marginals when asked, and with
// `keep_state` the per-instance state the marginals' backward reads, (instances, state size).
struct Elimination {
  at::Tensor theta, log_z, marginals, state;  // theta: the input in float64, contiguous
};
Elimination run(const at::Tensor& theta, bool directed, int64_t root, bool want_marginals, bool keep_state) {
  at::Tensor t = theta.to(at::kDouble).contiguous();
  const int64_t n = t.size(-1), instances = t.numel() / (n * n), state_size = LinearElimination::state_size(n);
  at::Tensor log_z = at::empty({instances}, t.options());
  at::Tensor marginals = want_marginals ? at::empty_like(t) : at::Tensor();
  at::Tensor state = keep_state ? at::empty({instances, state_size}, t.options()) : at::Tensor();
  std::atomic<bool> failed{false};
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    LinearElimination linear;
    std::vector<double> scratch(keep_state ? 0 : state_size), weights;
    for (int64_t b = begin; b < end; ++b) {
      linear.attach(keep_state ? state.data_ptr<double>() + b * state_size : scratch.data(), n, root);
      double* out = want_marginals ? marginals.data_ptr<double>() + b * n * n : nullptr;
      const double* log_weights = edge_log_weights(t.data_ptr<double>() + b * n * n, n, directed, weights);
      if (!forward_instance(linear, log_weights, n, root, directed, log_z.data_ptr<double>()[b], out))
        failed = true;
      else if (out && !directed)
        symmetrize(out, n, 1.0);
    }
  });
  if (failed) unreachable(directed, root);
  const auto batch = theta.sizes().slice(0, theta.dim() - 2);
  return {t, log_z.view(batch).to(theta.scalar_type()),
          want_marginals ? marginals.to(theta.scalar_type()) : marginals, state};
}

// d marginals . g: the Hessian of log Z applied to g, from the input and the state the forward
// left.
at::Tensor marginals_backward(const at::Tensor& t, const at::Tensor& state, const at::Tensor& grad, bool directed,
                              int64_t root) {
  at::Tensor g = grad.to(at::kDouble).expand_as(t).contiguous();
  const int64_t n = t.size(-1), instances = t.numel() / (n * n), state_size = LinearElimination::state_size(n);
  at::Tensor out = at::empty_like(t);
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    LinearElimination linear;
    std::vector<double> direction(n * n), weights;
    for (int64_t b = begin; b < end; ++b) {
      double* instance_state = state.data_ptr<double>() + b * state_size;
      linear.attach(instance_state, n, root);
      std::copy_n(g.data_ptr<double>() + b * n * n, n * n, direction.data());
      // Undirected marginals are B + B^T of the symmetrized weights, so their vector-Jacobian
      // product is sym(H (g + g^T)).
      if (!directed) symmetrize(direction.data(), n, 1.0);
      double* o = out.data_ptr<double>() + b * n * n;
      backward_instance(linear, instance_state, t.data_ptr<double>() + b * n * n, directed, weights, direction.data(),
                        n, root, o);
      if (!directed) symmetrize(o, n, 0.5);
    }
  });
  return out.to(grad.scalar_type());
}

// What both autograd Functions keep for their backward: their input (for the marginals in
// float64), the kind of graph and, for the marginals, the elimination's state.
struct Graph {
  at::Tensor input;
  bool directed;
  int64_t root;
  at::Tensor state;

  void save(torch::autograd::AutogradContext* ctx) const {
    ctx->save_for_backward({input, state});
    ctx->saved_data["directed"] = directed;
    ctx->saved_data["root"] = root;
  }
  static Graph load(torch::autograd::AutogradContext* ctx) {
    const auto saved = ctx->get_saved_variables();
    return {saved[0], ctx->saved_data["directed"].toBool(), ctx->saved_data["root"].toInt(), saved[1]};
  }
};

bool may_need_gradient(const at::Tensor& theta) { return theta.requires_grad() && at::GradMode::is_enabled(); }

class MarginalsFunction : public torch::autograd::Function<MarginalsFunction> {
 public:
  // keep_state: whether a backward may follow (decided by the caller: in here gradients are off).
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& theta, bool directed,
                            int64_t root, bool keep_state) {
    Elimination result = run(theta, directed, root, true, keep_state);
    Graph{result.theta, directed, root, result.state}.save(ctx);
    return result.marginals;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const Graph g = Graph::load(ctx);
    return {marginals_backward(g.input, g.state, grads[0], g.directed, g.root), at::Tensor(), at::Tensor(),
            at::Tensor()};
  }
};

class LogPartitionFunction : public torch::autograd::Function<LogPartitionFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& theta, bool directed,
                            int64_t root) {
    Graph{theta, directed, root, at::Tensor()}.save(ctx);
    return run(theta, directed, root, false, false).log_z;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const Graph g = Graph::load(ctx);
    at::Tensor mu = MarginalsFunction::apply(g.input, g.directed, g.root, may_need_gradient(g.input));
    // An undirected edge's marginal is shared by its two entries.
    if (!g.directed) mu = mu / 2;
    return {grads[0].unsqueeze(-1).unsqueeze(-1) * mu, at::Tensor(), at::Tensor()};
  }
};

void check_input(const char* function, const at::Tensor& theta, int64_t root) {
  check::logits_shape(function, "theta", theta, 2);
  TORCH_CHECK_VALUE(theta.size(-1) == theta.size(-2), function, ": theta must be square (*batch, n, n), got ",
                    check::shape_string(theta.sizes()));
  // One reduction finds both: max propagates NaN.
  const double largest = theta.max().item<double>();
  TORCH_CHECK_VALUE(!std::isnan(largest), function, ": theta contains NaN");
  TORCH_CHECK_VALUE(largest != INFINITY, function, ": theta contains +inf");
  check::in_range(function, "root", root, 0, theta.size(-1) - 1);
}

}  // namespace

at::Tensor matrix_tree_log_partition(const at::Tensor& theta, bool directed, int64_t root) {
  check_input("matrix_tree_log_partition", theta, root);
  return LogPartitionFunction::apply(theta, directed, root);
}

at::Tensor matrix_tree_marginals(const at::Tensor& theta, bool directed, int64_t root) {
  check_input("matrix_tree_marginals", theta, root);
  return MarginalsFunction::apply(theta, directed, root, may_need_gradient(theta));
}

}  // namespace structgrad::ops
