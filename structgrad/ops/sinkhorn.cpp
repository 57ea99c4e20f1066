#include "structgrad/ops/sinkhorn.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "structgrad/core/check.h"
#include "structgrad/core/log_space.h"
#include "structgrad/ops/finite_difference.h"

namespace structgrad::ops {
namespace {

using core::kNegInf;

// Runs body(b) for every matrix b of the batch, in parallel.
template <typename Body>
void for_each_matrix(int64_t count, Body body) {
  at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) body(b);
  });
}

// One instance of the forward, in double. The log-domain iteration would cost n^2 exp per
// half-step; instead P_ij = a_i K_ij b_j with a kernel K_ij = exp(z_ij + f_i + g_j) at reference
// log-potentials (f, g), and each half-step only rescales a or b (a matrix-vector product).
// The reference moves (absorbing a, b into f, g) when a scaling leaves [1e-30, 1e30], and a
// half-step whose sums fall outside [1e-100, 1e100] (spread-out logits, low temperatures) is
// done exactly in the log domain. Entries of K that underflow then weigh below 1e-200 of
// their line, so the result is the log-domain iteration's up to rounding.
class ScaledSinkhorn {
 public:
  template <typename scalar_t>
  ScaledSinkhorn(const scalar_t* z, int64_t n) : n_(n), rows_(n), columns_(n) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) rows_.z[i * n + j] = columns_.z[j * n + i] = double(z[i * n + j]);
    // Row maxima as the first reference keep every kernel entry <= 1.
    for (int64_t i = 0; i < n; ++i)
      rows_.log_potential[i] = -*std::max_element(&rows_.z[i * n], &rows_.z[i * n] + n);
    refresh_kernel();
  }

  // Normalizes the rows (or the columns) to sum 1, unless their largest |sum - 1| before the
  // step is below `stop_below`. Returns that largest deviation.
  double normalize_rows(double stop_below) { return normalize(rows_, columns_, stop_below); }
  double normalize_columns(double stop_below) { return normalize(columns_, rows_, stop_below); }

  template <typename scalar_t>
  void write(scalar_t* out) const {
    for (int64_t i = 0; i < n_; ++i)
      for (int64_t j = 0; j < n_; ++j)
        out[i * n_ + j] = scalar_t(rows_.scaling[i] * rows_.kernel[i * n_ + j] * columns_.scaling[j]);
  }

 private:
  // Rows, or columns through transposed copies: line i of `kernel` and `z` is row (column) i.
  struct Side {
    explicit Side(int64_t n) : z(n * n), kernel(n * n), log_potential(n, 0.0), scaling(n, 1.0), sums(n) {}
    std::vector<double> z, kernel, log_potential, scaling, sums;
    void absorb() {
      for (size_t i = 0; i < scaling.size(); ++i) {
        log_potential[i] += std::log(scaling[i]);
        scaling[i] = 1;
      }
    }
  };

  void refresh_kernel() {
    for (int64_t i = 0; i < n_; ++i)
      for (int64_t j = 0; j < n_; ++j)
        rows_.kernel[i * n_ + j] = columns_.kernel[j * n_ + i] =
            std::exp(rows_.z[i * n_ + j] + rows_.log_potential[i] + columns_.log_potential[j]);
  }

  double normalize(Side& side, Side& other, double stop_below) {
    bool safe = true;
    double deviation = 0;
    for (int64_t i = 0; i < n_; ++i) {
      const double* line = &side.kernel[i * n_];
      double sum = 0;
      for (int64_t j = 0; j < n_; ++j) sum += line[j] * other.scaling[j];
      side.sums[i] = sum;
      safe = safe && sum >= 1e-100 && sum <= 1e100;
      deviation = std::max(deviation, std::abs(side.scaling[i] * sum - 1));
    }
    if (safe) {
      if (deviation < stop_below) return deviation;
      bool drifted = false;
      for (int64_t i = 0; i < n_; ++i) {
        side.scaling[i] = 1 / side.sums[i];
        drifted = drifted || side.scaling[i] < 1e-30 || side.scaling[i] > 1e30;
      }
      if (drifted) {
        side.absorb();
        other.absorb();
        refresh_kernel();
      }
      return deviation;
    }
    // The exact log-domain step: log_potential_i = -logsumexp_j(z_ij + other's g_j).
    side.absorb();
    other.absorb();
    deviation = 0;
    for (int64_t i = 0; i < n_; ++i) {
      const double* line = &side.z[i * n_];
      double m = kNegInf;
      for (int64_t j = 0; j < n_; ++j) m = std::max(m, line[j] + other.log_potential[j]);
      double sum = 0;
      for (int64_t j = 0; j < n_; ++j) sum += std::exp(line[j] + other.log_potential[j] - m);
      side.sums[i] = -(m + std::log(sum));
      deviation = std::max(deviation, std::abs(std::expm1(side.log_potential[i] - side.sums[i])));
    }
    if (deviation < stop_below) return deviation;
    side.log_potential.swap(side.sums);
    refresh_kernel();
    return deviation;
  }

  int64_t n_;
  Side rows_, columns_;
};

template <typename scalar_t>
void forward_matrix(const scalar_t* z, int64_t n, int64_t iterations, double tolerance, scalar_t* out) {
  ScaledSinkhorn state(z, n);
  for (int64_t t = 0; t < iterations; ++t) {
    // The first row step has no previous iteration to judge; a tolerance of 0 never stops.
    const double stop_below = t > 0 ? tolerance : 0.0;
    if (state.normalize_rows(stop_below) < stop_below) break;
    state.normalize_columns(0.0);
  }
  state.write(out);
}

// Solves M x = rhs in place for symmetric positive semidefinite M (lower triangle, row-major,
// overwritten by its Cholesky factor). A pivot below `drop` marks a direction M does not see;
// for the consistent systems given here that component of x is set to 0.
void semidefinite_cholesky_solve(std::vector<double>& m, std::vector<double>& rhs, int64_t n, double drop) {
  std::vector<char> dropped(n, 0);
  for (int64_t j = 0; j < n; ++j) {
    double* row_j = &m[j * n];
    double d = row_j[j];
    for (int64_t k = 0; k < j; ++k) d -= row_j[k] * row_j[k];
    if (d <= drop) {
      dropped[j] = 1;
      for (int64_t i = j; i < n; ++i) m[i * n + j] = 0;
      continue;
    }
    const double pivot = std::sqrt(d);
    row_j[j] = pivot;
    for (int64_t i = j + 1; i < n; ++i) {
      double* row_i = &m[i * n];
      double s = row_i[j];
      for (int64_t k = 0; k < j; ++k) s -= row_i[k] * row_j[k];
      row_i[j] = s / pivot;
    }
  }
  for (int64_t j = 0; j < n; ++j) {
    double s = rhs[j];
    for (int64_t k = 0; k < j; ++k) s -= m[j * n + k] * rhs[k];
    rhs[j] = dropped[j] ? 0.0 : s / m[j * n + j];
  }
  for (int64_t j = n - 1; j >= 0; --j) {
    double s = rhs[j];
    for (int64_t i = j + 1; i < n; ++i) s -= m[i * n + j] * rhs[i];
    rhs[j] = dropped[j] ? 0.0 : s / m[j * n + j];
  }
}

// One instance of the implicit backward (see the header for the equations).
template <typename scalar_t>
void implicit_backward_matrix(const scalar_t* p, const scalar_t* grad, int64_t n, scalar_t* out) {
  // beta holds b = A^T 1, then the right-hand side b - P^T a, then the solution.
  std::vector<double> a(n, 0.0), beta(n, 0.0), m(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double w = double(grad[i * n + j]) * double(p[i * n + j]);
      a[i] += w;
      beta[j] += w;
    }
  for (int64_t j = 0; j < n; ++j)
    for (int64_t k = 0; k <= j; ++k) m[j * n + k] = (j == k ? 1.0 : 0.0) + 1.0 / double(n);
  for (int64_t i = 0; i < n; ++i) {
    const scalar_t* row = p + i * n;
    for (int64_t j = 0; j < n; ++j) {
      const double p_ij = row[j];
      beta[j] -= p_ij * a[i];
      double* m_j = &m[j * n];
      for (int64_t k = 0; k <= j; ++k) m_j[k] -= p_ij * double(row[k]);
    }
  }
  semidefinite_cholesky_solve(m, beta, n, 1e-12);
  for (int64_t i = 0; i < n; ++i) {
    const scalar_t* row = p + i * n;
    double alpha = a[i];
    for (int64_t j = 0; j < n; ++j) alpha -= double(row[j]) * beta[j];
    for (int64_t j = 0; j < n; ++j)
      out[i * n + j] = scalar_t(double(row[j]) * (double(grad[i * n + j]) - alpha - beta[j]));
  }
}

at::Tensor implicit_forward(const at::Tensor& z, int64_t iterations, double tolerance) {
  at::Tensor in = z.contiguous();
  at::Tensor out = at::empty_like(in);
  const int64_t n = in.size(-1), count = in.numel() / (n * n);
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "sinkhorn", [&] {
    const scalar_t* src = in.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    for_each_matrix(count, [&](int64_t b) {
      forward_matrix(src + b * n * n, n, iterations, tolerance, dst + b * n * n);
    });
  });
  return out;
}

at::Tensor implicit_backward(const at::Tensor& p, const at::Tensor& grad_output) {
  at::Tensor g = grad_output.expand_as(p).contiguous();
  at::Tensor out = at::empty_like(p);
  const int64_t n = p.size(-1), count = p.numel() / (n * n);
  AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "sinkhorn_backward", [&] {
    const scalar_t* p_data = p.data_ptr<scalar_t>();
    const scalar_t* g_data = g.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    for_each_matrix(count, [&](int64_t b) {
      implicit_backward_matrix(p_data + b * n * n, g_data + b * n * n, n, dst + b * n * n);
    });
  });
  return out;
}

class ImplicitSinkhornFunction : public torch::autograd::Function<ImplicitSinkhornFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& z, int64_t iterations,
                            double tolerance) {
    at::Tensor p = implicit_forward(z, iterations, tolerance);
    ctx->save_for_backward({p});
    return p;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    at::Tensor p = ctx->get_saved_variables()[0];
    return {implicit_backward(p, grads[0]), at::Tensor(), at::Tensor()};
  }
};

// The same iterations and stopping rule as forward_matrix, in torch ops for autograd.
at::Tensor unrolled_sinkhorn(const at::Tensor& z, int64_t iterations, double tolerance) {
  at::Tensor log_p = z;
  at::Tensor converged = at::zeros(z.sizes().slice(0, z.dim() - 2), z.options().dtype(at::kBool));
  for (int64_t t = 0; t < iterations; ++t) {
    at::Tensor row_lse = at::logsumexp(log_p, -1, /*keepdim=*/true);
    at::Tensor next = log_p - row_lse;
    next = next - at::logsumexp(next, -2, /*keepdim=*/true);
    if (tolerance > 0 && t > 0) {
      converged = converged | (at::expm1(row_lse.detach()).abs().amax({-2, -1}) < tolerance);
      if (converged.all().item<bool>()) break;
      next = at::where(converged.unsqueeze(-1).unsqueeze(-1), log_p, next);
    }
    log_p = next;
  }
  return log_p.exp();
}

}  // namespace

at::Tensor sinkhorn(const at::Tensor& z, int64_t iterations, double tolerance, const std::string& backward) {
  check::logits("sinkhorn", "z", z, 2);
  TORCH_CHECK_VALUE(z.size(-1) == z.size(-2), "sinkhorn: z must be square (*batch, n, n), got shape ",
                    check::shape_string(z.sizes()));
  check::finite("sinkhorn", "z", z);
  TORCH_CHECK_VALUE(iterations >= 1, "sinkhorn: iterations must be at least 1, got ", iterations);
  TORCH_CHECK_VALUE(std::isfinite(tolerance) && tolerance >= 0,
                    "sinkhorn: tolerance must be non-negative and finite, got ", tolerance);
  TORCH_CHECK_VALUE(backward == "implicit" || backward == "unroll" || backward == "finite_difference",
                    "sinkhorn: backward must be \"implicit\", \"unroll\" or \"finite_difference\", got \"",
                    backward, "\"");
  if (backward == "unroll") return unrolled_sinkhorn(z, iterations, tolerance);
  if (backward == "finite_difference") {
    auto solve = [iterations, tolerance](const at::Tensor& x) {
      return ImplicitSinkhornFunction::apply(x, iterations, tolerance);
    };
    return finite_difference_argmax(z, 2, solve);
  }
  return ImplicitSinkhornFunction::apply(z, iterations, tolerance);
}

}  // namespace structgrad::ops
