#include "structgrad/solvers/matrix_tree.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "structgrad/core/log_space.h"
#include "structgrad/core/vector_clones.h"
#include "structgrad/core/vector_exp.h"

namespace structgrad::solvers {
namespace {

using core::kNegInf;

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

// sum_k x[k] y[k] and sum_k x[k] over `length` contiguous entries.
inline double dot(const double* x, const double* y, int64_t length) { return column_dot(x, 1, y, length); }
inline double row_sum(const double* x, int64_t length) { return column_dot(x, 1, nullptr, length); }

// What an elimination in linear space leaves per instance, so that the backward does not
// repeat the forward: w0 (the shifted weights), w (the matrix the elimination left), adj
// (d log Z / d w) and each step's sums (n x n each), the pivots and each step's T (n each),
// and the shift (NaN: the instance ran in log space). The scratch buffers of the subclasses are
// reused across the instances a thread runs.
class EliminationState {
 public:
  static int64_t size(int64_t n) { return 4 * n * n + 2 * n + 1; }
  static bool ran_in_log_space(const double* state, int64_t n) { return std::isnan(state[size(n) - 1]); }

  // Works on `state` (size(n) doubles) from now on.
  void attach(double* state, int64_t n) {
    n_ = n;
    w0_ = state;
    w_ = w0_ + n * n;
    adj_ = w_ + n * n;
    step_sums_ = adj_ + n * n;
    pivot_ = step_sums_ + n * n;
    t_ = pivot_ + n;
    shift_ = t_ + n;
  }
  void mark_log_space() { *shift_ = std::numeric_limits<double>::quiet_NaN(); }

  double log_z() const {
    double sum = double(n_ - 1) * *shift_;
    for (int64_t v = 0; v + 1 < n_; ++v) sum += std::log(pivot_[v]);
    return sum;
  }

 protected:
  int64_t n_ = 0;
  double *w0_ = nullptr, *w_ = nullptr, *adj_ = nullptr, *step_sums_ = nullptr, *pivot_ = nullptr, *t_ = nullptr,
         *shift_ = nullptr;
};

// The elimination of a directed graph in linear space on max-shifted weights, its reverse pass
// (the marginals) and the tangent of both (the marginals' backward, a Hessian-vector product),
// one instance at a time.
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
// A (the step's sums) and C are accumulated as axpys over transposed and plain copies of adj,
// never as dot products, so that they vectorize without reassociating sums. Each step divides
// by its pivot O(n) times, as a multiplication by the pivot's reciprocal: a division costs
// several multiplications' time and does not pipeline as well.
class LinearElimination : public EliminationState {
 public:
  void attach(double* state, int64_t n, int64_t root) {
    EliminationState::attach(state, n);
    if (int64_t(vertex_.size()) != n || root != root_) {
      root_ = root;
      vertex_.resize(n);
      for (int64_t a = 0; a < n; ++a) vertex_[a] = a < root ? a : a < n - 1 ? a + 1 : root;
    }
  }

  // Eliminates theta (n x n, original numbering) shifted by `shift`; false when some vertex
  // cannot be reached from the root.
  STRUCTGRAD_VECTOR_CLONES bool eliminate(const double* theta, double shift) {
    const int64_t n = n_;
    *shift_ = shift;
    for (int64_t a = 0; a < n; ++a) {
      const double* row = theta + vertex_[a] * n;
      double* w0 = w0_ + a * n;
      for (int64_t b = 0; b < n; ++b) w0[b] = row[vertex_[b]];
      w0[a] = w0[n - 1] = kNegInf;  // the diagonal and the edges into the root do not count
      core::exp_shifted_in_place(w0, n, shift);
    }
    std::copy(w0_, w0_ + n * n, w_);
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

  // Fills adj (and its transpose), and keeps each step's A and T for the tangent.
  STRUCTGRAD_VECTOR_CLONES void reverse() {
    const int64_t n = n_;
    std::fill(adj_, adj_ + 2 * n * n, 0.0);  // adj, A
    adj_t_.assign(n * n, 0.0);
    column_.resize(n);
    for (int64_t v = n - 2; v >= 0; --v) {
      const int64_t sources = n - 1 - v, targets = n - 2 - v;
      double* a = &step_sums_[v * n + v + 1];
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
  void write_marginals(double* out) const {
    const int64_t n = n_;
    for (int64_t a = 0; a < n; ++a)
      for (int64_t b = 0; b < n; ++b) out[vertex_[a] * n + vertex_[b]] = w0_[a * n + b] * adj_[a * n + b];
  }

  // The tangent of the marginals along the log-weight direction g (original numbering), from
  // the state eliminate and reverse left: the Hessian of log Z applied to g.
  STRUCTGRAD_VECTOR_CLONES void tangent(const double* g, double* out) {
    const int64_t n = n_;
    adj_t_.resize(n * n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) adj_t_[j * n + i] = adj_[i * n + j];
    direction_.resize(n * n);
    wd_.resize(n * n);
    for (int64_t a = 0; a < n; ++a)
      for (int64_t b = 0; b < n; ++b) {
        const double d = g[vertex_[a] * n + vertex_[b]];
        direction_[a * n + b] = d;
        wd_[a * n + b] = w0_[a * n + b] * d;
      }
    // Forward: w_ij += s_i w_vj with s_i = w_iv / d_v, so w'_ij += s'_i w_vj + s_i w'_vj.
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
      const double* a = &step_sums_[v * n + v + 1];
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
    for (int64_t a = 0; a < n; ++a)
      for (int64_t b = 0; b < n; ++b) {
        const int64_t k = a * n + b;
        out[vertex_[a] * n + vertex_[b]] = w0_[k] * (direction_[k] * adj_[k] + adjd_[k]);
      }
  }

 private:
  // The vertex at each position: positions 0..root-1 are vertices 0..root-1, positions
  // root..n-2 vertices root+1..n-1, and position n-1 the root.
  int64_t root_ = 0;
  std::vector<int64_t> vertex_;
  std::vector<double> adj_t_, column_, direction_, wd_, pivot_tangent_, adjd_, adjd_t_, a_tangent_, column_tangent_;
};

// The elimination of an undirected graph in linear space: the same Kron reduction, but the
// weights stay symmetric under it (w_ij += w_iv w_jv / d_v), so the forward and its tangent
// update only the upper triangle, and the reverse pass works on one adjoint per edge, half of
// the directed passes' work. The root is the last vertex (an undirected tree's law does not
// depend on the root), so no renumbering is needed: step v eliminates vertex v, the graph
// after it is the vertices v+1..n-1, and d_v = sum_{j>v} w_vj is row v of the upper triangle.
//
// With u = row v (j > v) and adj the edge adjoints of the graph after step v, held symmetric
// (adj_ij = adj_ji, zero diagonal) so that S below is a sum of axpys over whole rows:
//   S_k = sum_j adj_kj u_j,   T = sum_{i<j} adj_ij u_i u_j = u . S / 2,
//   adj_vk = (S_k + 1 - T / d_v) / d_v.
// The step's S (its sums) and T are kept for the tangent. The marginal of the edge {i, j} is
// w0_ij adj_ij; the lower triangle of w0 and w is never read.
class SymmetricElimination : public EliminationState {
 public:
  // The log-weights of the edges, (theta_ij + theta_ji) / 2 for i < j, into w0, with their
  // largest and smallest finite values.
  void read_edges(const double* theta, double& largest, double& smallest) {
    const int64_t n = n_;
    largest = kNegInf;
    smallest = std::numeric_limits<double>::infinity();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) {
        const double phi = (theta[i * n + j] + theta[j * n + i]) / 2;
        w0_[i * n + j] = phi;
        if (phi == kNegInf) continue;
        largest = std::max(largest, phi);
        smallest = std::min(smallest, phi);
      }
  }

  // Eliminates the edges read_edges left in w0, shifted by `shift`; false when the graph is
  // disconnected.
  STRUCTGRAD_VECTOR_CLONES bool eliminate(double shift) {
    const int64_t n = n_;
    *shift_ = shift;
    for (int64_t i = 0; i < n; ++i) {
      double* w0 = w0_ + i * n;
      core::exp_shifted_in_place(w0 + i + 1, n - 1 - i, shift);
      for (int64_t j = i + 1; j < n; ++j) w_[i * n + j] = w0[j];
    }
    for (int64_t v = 0; v + 1 < n; ++v) {
      const double* row_v = &w_[v * n];
      const double d = row_sum(row_v + v + 1, n - 1 - v);
      if (!(d > 0)) return false;
      pivot_[v] = d;
      const double inverse = 1 / d;
      for (int64_t i = v + 1; i + 1 < n; ++i) {
        const double share = row_v[i] * inverse;
        if (share != 0) axpy(share, row_v + i + 1, &w_[i * n + i + 1], n - 1 - i);
      }
    }
    return true;
  }

  // Fills adj (symmetric) and keeps each step's S and T.
  STRUCTGRAD_VECTOR_CLONES void reverse() {
    const int64_t n = n_;
    std::fill(adj_, adj_ + n * n, 0.0);
    for (int64_t v = n - 2; v >= 0; --v) {
      const int64_t rest = n - 1 - v;
      const double* u = &w_[v * n + v + 1];
      double* sums = &step_sums_[v * n + v + 1];
      std::fill(sums, sums + rest, 0.0);
      for (int64_t k = 0; k < rest; ++k) axpy(u[k], &adj_[(v + 1 + k) * n + v + 1], sums, rest);
      const double inverse = 1 / pivot_[v];
      const double t = dot(u, sums, rest) / 2;
      t_[v] = t;
      const double through = 1 - t * inverse;
      for (int64_t k = 0; k < rest; ++k)
        adj_[v * n + v + 1 + k] = adj_[(v + 1 + k) * n + v] = (sums[k] + through) * inverse;
    }
  }

  // The marginals w0 * adj, mirrored, zero on the diagonal.
  void write_marginals(double* out) const {
    const int64_t n = n_;
    for (int64_t i = 0; i < n; ++i) {
      out[i * n + i] = 0;
      for (int64_t j = i + 1; j < n; ++j) out[i * n + j] = out[j * n + i] = w0_[i * n + j] * adj_[i * n + j];
    }
  }

  // The backward of the marginals for the output gradient `grad` (n x n): with g_ij = grad_ij +
  // grad_ji the edge direction, out_ij = out_ji = (H g)_ij / 2, H the Hessian of log Z in the
  // edge log-weights (the half: theta_ij and theta_ji each carry half of the edge's weight).
  STRUCTGRAD_VECTOR_CLONES void tangent(const double* grad, double* out) {
    const int64_t n = n_;
    direction_.resize(n * n);
    wd_.resize(n * n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) {
        const double g = grad[i * n + j] + grad[j * n + i];
        direction_[i * n + j] = g;
        wd_[i * n + j] = w0_[i * n + j] * g;
      }
    // Forward: w_ij += s_i w_vj with s_i = w_vi / d_v, so w'_ij += s'_i w_vj + s_i w'_vj.
    pivot_tangent_.resize(n);
    for (int64_t v = 0; v + 1 < n; ++v) {
      const double inverse = 1 / pivot_[v];
      const double* row_v = &w_[v * n];
      const double* row_vd = &wd_[v * n];
      const double dd = row_sum(row_vd + v + 1, n - 1 - v);
      pivot_tangent_[v] = dd;
      for (int64_t i = v + 1; i + 1 < n; ++i) {
        const double share = row_v[i] * inverse, share_tangent = (row_vd[i] - share * dd) * inverse;
        axpy2(share_tangent, row_v + i + 1, share, row_vd + i + 1, &wd_[i * n + i + 1], n - 1 - i);
      }
    }
    // Reverse: the tangents of S, T and of the adjoint formula.
    adjd_.assign(n * n, 0.0);
    sums_tangent_.resize(n);
    for (int64_t v = n - 2; v >= 0; --v) {
      const int64_t rest = n - 1 - v;
      const double *u = &w_[v * n + v + 1], *ud = &wd_[v * n + v + 1];
      const double* sums = &step_sums_[v * n + v + 1];
      double* sd = sums_tangent_.data();
      std::fill(sd, sd + rest, 0.0);
      for (int64_t k = 0; k < rest; ++k) {
        const int64_t row = (v + 1 + k) * n + v + 1;
        axpy2(u[k], &adjd_[row], ud[k], &adj_[row], sd, rest);
      }
      const double inverse = 1 / pivot_[v], dd = pivot_tangent_[v], t = t_[v];
      const double td = (dot(ud, sums, rest) + dot(u, sd, rest)) / 2;
      const double through_tangent = -(td - t * dd * inverse) * inverse;
      for (int64_t k = 0; k < rest; ++k)
        adjd_[v * n + v + 1 + k] = adjd_[(v + 1 + k) * n + v] =
            (sd[k] + through_tangent - adj_[v * n + v + 1 + k] * dd) * inverse;
    }
    // marginal = w0 * adj, and w0' = w0 * g.
    for (int64_t i = 0; i < n; ++i) {
      out[i * n + i] = 0;
      for (int64_t j = i + 1; j < n; ++j) {
        const int64_t e = i * n + j;
        out[e] = out[j * n + i] = 0.5 * w0_[e] * (direction_[e] * adj_[e] + adjd_[e]);
      }
    }
  }

 private:
  std::vector<double> direction_, wd_, pivot_tangent_, adjd_, sums_tangent_;
};

// Whether the elimination may run in linear space on weights shifted by their largest finite
// log-weight: exact unless a product of up to n - 1 shifted weights can underflow. No edge at
// all (a lone root has one, empty, tree; anything larger none) goes to log space as well.
bool fits_linear_space(double largest, double smallest, int64_t n) {
  return largest != kNegInf && (largest - smallest) * double(n - 1) < 600.0;
}

// The shift for linear space; none when the elimination must run in log space.
std::optional<double> linear_shift(const double* theta, int64_t n, int64_t root) {
  double hi = kNegInf, lo = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double t = theta[i * n + j];
      if (i == j || j == root || t == kNegInf) continue;
      hi = std::max(hi, t);
      lo = std::min(lo, t);
    }
  if (!fits_linear_space(hi, lo, n)) return std::nullopt;
  return hi;
}

// m_ij = m_ji = (m_ij + m_ji) * scale: the undirected form of a directed quantity.
void symmetrize(double* m, int64_t n, double scale) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) m[i * n + j] = m[j * n + i] = (m[i * n + j] + m[j * n + i]) * scale;
}

// An undirected graph in log space is the directed graph with both directions of every edge
// weighted (theta + theta^T) / 2, so that each edge has one weight whichever triangle the
// caller's gradient lands in; rooted at the last vertex, like the linear-space elimination.
// Written to `buffer`.
const double* undirected_log_weights(const double* theta, int64_t n, std::vector<double>& buffer) {
  buffer.resize(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) buffer[i * n + j] = (theta[i * n + j] + theta[j * n + i]) / 2;
  return buffer.data();
}

// log Z and, when asked, the marginals, once a linear-space elimination has run.
template <typename Linear>
bool read_linear(Linear& linear, double& log_z, double* marginals) {
  log_z = linear.log_z();
  if (marginals) {
    linear.reverse();
    linear.write_marginals(marginals);
  }
  return true;
}

}  // namespace

// The scratch of one thread's instances: both eliminations and the log-space weights.
struct MatrixTreeWorkspace::Scratch {
  LinearElimination directed;
  SymmetricElimination undirected;
  std::vector<double> weights;
};

// One instance: log Z and, when `marginals` is given, the marginals, leaving in `state` what
// the backward needs. False when some vertex cannot be reached from the root.
bool MatrixTreeWorkspace::forward(double* state, const double* theta, int64_t n, int64_t root, bool directed,
                                  double& log_z, double* marginals) {
  if (directed) {
    LinearElimination& linear = scratch_->directed;
    linear.attach(state, n, root);
    const auto shift = linear_shift(theta, n, root);
    if (!shift) {
      linear.mark_log_space();
      return eliminate_in_log_space<double>(theta, n, root, log_z, marginals);
    }
    return linear.eliminate(theta, *shift) && read_linear(linear, log_z, marginals);
  }
  SymmetricElimination& linear = scratch_->undirected;
  linear.attach(state, n);
  double largest, smallest;
  linear.read_edges(theta, largest, smallest);
  if (!fits_linear_space(largest, smallest, n)) {
    linear.mark_log_space();
    if (!eliminate_in_log_space<double>(undirected_log_weights(theta, n, scratch_->weights), n, n - 1, log_z, marginals))
      return false;
    // The directed marginals of both directions, summed: the edge's.
    if (marginals) symmetrize(marginals, n, 1.0);
    return true;
  }
  return linear.eliminate(largest) && read_linear(linear, log_z, marginals);
}

// One instance of the marginals' backward for the output gradient g: the Hessian of log Z
// applied to it, by the tangent pass over the forward's state in linear space, by dual numbers
// in log space.
void MatrixTreeWorkspace::backward(double* state, const double* input, bool directed, const double* g, int64_t n,
                                   int64_t root, double* out) {
  const bool log_space = EliminationState::ran_in_log_space(state, n);
  if (!log_space && directed) {
    scratch_->directed.attach(state, n, root);
    scratch_->directed.tangent(g, out);
    return;
  }
  if (!log_space) {
    scratch_->undirected.attach(state, n);
    scratch_->undirected.tangent(g, out);
    return;
  }
  // Undirected marginals are B + B^T of the directed marginals B of the symmetrized weights,
  // so their vector-Jacobian product is sym(H (g + g^T)) / 2.
  std::vector<double> direction(g, g + n * n);
  if (!directed) symmetrize(direction.data(), n, 1.0);
  const double* theta = directed ? input : undirected_log_weights(input, n, scratch_->weights);
  std::vector<Dual> in(n * n), marginals(n * n);
  for (int64_t k = 0; k < n * n; ++k) in[k] = Dual(theta[k], std::isfinite(theta[k]) ? direction[k] : 0.0);
  Dual log_z;
  eliminate_in_log_space<Dual>(in.data(), n, directed ? root : n - 1, log_z, marginals.data());
  for (int64_t k = 0; k < n * n; ++k) out[k] = marginals[k].d;
  if (!directed) symmetrize(out, n, 0.5);
}

MatrixTreeWorkspace::MatrixTreeWorkspace() : scratch_(std::make_unique<Scratch>()) {}
MatrixTreeWorkspace::~MatrixTreeWorkspace() = default;

int64_t MatrixTreeWorkspace::state_size(int64_t n) { return EliminationState::size(n); }

}  // namespace structgrad::solvers
