#include "structgrad/structures/graph.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "structgrad/core/check.h"
#include "structgrad/structures/gibbs.h"

namespace structgrad::graph {

void check_weights(const char* function, const at::Tensor& theta, bool symmetric, const char* name) {
  check::logits(function, name, theta, 2);
  TORCH_CHECK_VALUE(theta.size(-1) == theta.size(-2), function, ": ", name, " must be square (*batch, n, n), got ",
                    check::shape_string(theta.sizes()));
  // One pass over the weights (they are read again by every solver, so this is the cheap part).
  at::Tensor w = theta.detach().to(at::kDouble).contiguous();
  const int64_t n = w.size(-1), instances = w.numel() / (n * n);
  const double* data = w.data_ptr<double>();
  bool plus_infinity = false;
  // The first entry whose mirror differs: exact equality (both -inf included) always passes,
  // finite entries may differ by 1e-9 relative to the larger magnitude, a finite entry against
  // -inf never.
  struct Asymmetry {
    int64_t instance = -1, i = 0, j = 0;
    double x = 0, y = 0, gap = 0;
  } first;
  for (int64_t b = 0; b < instances; ++b) {
    const double* a = data + b * n * n;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const double x = a[i * n + j];
        plus_infinity = plus_infinity || x == INFINITY;
        if (!symmetric || j <= i || first.instance >= 0) continue;
        const double y = a[j * n + i];
        if (x == y) continue;
        const double gap = std::isfinite(x) && std::isfinite(y)
                               ? std::abs(x - y) / std::max(std::abs(x), std::abs(y))
                               : INFINITY;
        if (gap > 1e-9) first = {b, i, j, x, y, gap};
      }
  }
  TORCH_CHECK_VALUE(!plus_infinity, function, ": ", name, " contains +inf");
  if (first.instance >= 0) {
    std::ostringstream message;
    message << std::setprecision(17) << function
            << ": " << name << " must be symmetric (an undirected edge has one weight), but in instance "
            << first.instance << " " << name << "[" << first.i << ", " << first.j << "] = " << first.x << " and "
            << name << "[" << first.j << ", "
            << first.i << "] = " << first.y << std::setprecision(3) << " (relative gap " << first.gap
            << ", above 1e-9)";
    TORCH_CHECK_VALUE(false, message.str());
  }
}

at::Tensor mirror_upper_(at::Tensor& weights, double diagonal) {
  TORCH_CHECK(weights.is_contiguous() && weights.dim() >= 2 && weights.size(-1) == weights.size(-2),
              "mirror_upper_: weights must be contiguous (*batch, n, n)");
  if (weights.numel() == 0) return weights;
  const int64_t n = weights.size(-1), instances = weights.numel() / (n * n);
  AT_DISPATCH_FLOATING_TYPES(weights.scalar_type(), "mirror_upper_", [&] {
    scalar_t* data = weights.data_ptr<scalar_t>();
    at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        scalar_t* a = data + b * n * n;
        for (int64_t i = 0; i < n; ++i) {
          a[i * n + i] = scalar_t(diagonal);
          for (int64_t j = i + 1; j < n; ++j) a[j * n + i] = a[i * n + j];
        }
      }
    });
  });
  return weights;
}

namespace {

// The upper triangle's draws mirrored into the lower one (the diagonal 0), where the edges are
// undirected; in place, since the noise is the caller's own.
at::Tensor mirrored(at::Tensor noise, bool symmetric) { return symmetric ? mirror_upper_(noise, 0.0) : noise; }

}  // namespace

at::Tensor edge_noise(const at::Tensor& theta, bool symmetric, GeneratorOpt generator) {
  return mirrored(gumbel_noise(theta.sizes(), theta.options(), generator), symmetric);
}

void check_perturbation(const char* function, const std::string& perturbation) {
  TORCH_CHECK_VALUE(perturbation == "gumbel" || perturbation == "gaussian" || perturbation == "negative_exponential",
                    function, ": perturbation must be \"gumbel\", \"gaussian\" or \"negative_exponential\", got \"",
                    perturbation, "\"");
}

at::Tensor perturb_edges(const char* function, const at::Tensor& theta, bool symmetric,
                         const std::string& perturbation, GeneratorOpt generator) {
  check_perturbation(function, perturbation);
  // The sums are written into the noise's own buffer (noise + theta, the same numbers as
  // theta + noise): see mirror_upper_ on what a fresh tensor of the batch's size costs.
  if (perturbation == "gumbel") return edge_noise(theta, symmetric, generator).add_(theta);
  if (perturbation == "gaussian") {
    at::Tensor normal = at::empty(theta.sizes(), theta.options().dtype(at::kDouble));
    normal.normal_(0.0, 1.0, generator);
    return mirrored(normal, symmetric).to(theta.scalar_type()).add_(theta);
  }
  // negative_exponential: refuse the magnitudes whose utilities overflow (an edge silently made
  // absent) or underflow (ties), rather than return a sample of another law. The diagonal, which
  // no structure uses, is set absent, whatever theta holds there.
  const double bound = theta.scalar_type() == at::kDouble ? kNegativeExponentialBound64 : kNegativeExponentialBound32;
  const at::Tensor absent =
      (theta.detach() == -INFINITY).logical_or(at::eye(theta.size(-1), theta.options().dtype(at::kBool)));
  const double largest = theta.numel() == 0 ? 0.0 : theta.detach().masked_fill(absent, 0).abs().max().item<double>();
  TORCH_CHECK_VALUE(largest <= bound, function, ": perturbation=\"negative_exponential\" needs the finite entries of ",
                    "theta within +-", bound, " in ", theta.scalar_type(), " (its utilities -E exp(-theta) would leave ",
                    "the dtype's range), got |theta| up to ", largest);
  const at::Tensor e =
      mirrored(exponential_noise(theta.sizes(), theta.options().dtype(at::kDouble), generator), symmetric);
  // Absent edges are filled before exp, so that their gradient is 0 rather than 0 * inf.
  const at::Tensor utilities = -(e.to(theta.scalar_type()) * at::exp(-theta.masked_fill(absent, 0)));
  return utilities.masked_fill(absent, -INFINITY);
}

at::Tensor solve_each(const at::Tensor& theta, const InstanceSolver& solve, const char* failure) {
  at::Tensor weights = theta.detach().to(at::kDouble).contiguous();
  const int64_t n = weights.size(-1), instances = weights.numel() / (n * n);
  at::Tensor out = at::zeros_like(weights);
  std::atomic<bool> failed{false};
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b)
      if (!solve(weights.data_ptr<double>() + b * n * n, n, out.data_ptr<double>() + b * n * n)) failed = true;
  });
  TORCH_CHECK_VALUE(!failed, failure);
  return out.to(theta.scalar_type());
}

namespace {

// Runs is_member on every (n, n) instance of x in float64: bool (*).
at::Tensor members_among(const at::Tensor& x, const std::function<bool(const double* x, int64_t n)>& is_member) {
  const at::Tensor data = x.detach().to(at::kDouble).contiguous();
  const int64_t n = data.size(-1), instances = n == 0 ? 0 : data.numel() / (n * n);
  at::Tensor out = at::empty({instances}, at::kBool);
  for (int64_t b = 0; b < instances; ++b) out[b] = is_member(data.data_ptr<double>() + b * n * n, n);
  return out.reshape(x.sizes().slice(0, x.dim() - 2));
}

}  // namespace

at::Tensor spanning_trees_among(const at::Tensor& x) {
  return members_among(x, [](const double* a, int64_t n) {
    std::vector<int64_t> component(n);
    for (int64_t v = 0; v < n; ++v) component[v] = v;
    auto find = [&](int64_t v) {
      while (component[v] != v) v = component[v] = component[component[v]];
      return v;
    };
    int64_t edges = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (a[i * n + i] != 0) return false;
      for (int64_t j = i + 1; j < n; ++j) {
        if (a[i * n + j] != a[j * n + i]) return false;
        if (a[i * n + j] == 0) continue;
        const int64_t ri = find(i), rj = find(j);
        if (ri == rj) return false;  // a cycle
        component[ri] = rj;
        ++edges;
      }
    }
    return edges == n - 1;
  });
}

at::Tensor arborescences_among(const at::Tensor& x, int64_t root) {
  return members_among(x, [root](const double* a, int64_t n) {
    std::vector<int64_t> parent(n, -1);
    for (int64_t v = 0; v < n; ++v) {
      int64_t into = 0;
      for (int64_t u = 0; u < n; ++u)
        if (a[u * n + v] != 0) {
          ++into;
          parent[v] = u;
        }
      if (into != (v == root ? 0 : 1) || parent[v] == v) return false;
    }
    // Every vertex reaches the root along parents within n steps, or there is a cycle.
    for (int64_t v = 0; v < n; ++v) {
      int64_t u = v;
      for (int64_t step = 0; step < n && u != root; ++step) u = parent[u];
      if (u != root) return false;
    }
    return true;
  });
}

at::Tensor gibbs_trees(const char* function, const at::Tensor& theta, bool directed, int64_t root,
                       solvers::TreeSampler sampler, GeneratorOpt generator) {
  const int64_t n = theta.size(-1);
  auto sample = [=](const double* w, solvers::RandomStream& random, double* x) -> std::string {
    std::vector<double> weights(w, w + n * n);
    int64_t tree_root = root;
    if (!directed) {
      // Any root gives the same law once the orientation is dropped (a uniformly drawn one would
      // too); an endpoint of the heaviest edge is where the walks tend to go, so they end sooner.
      double heaviest = -INFINITY;
      for (int64_t u = 0; u < n; ++u) {
        double total = -INFINITY;
        for (int64_t v = 0; v < n; ++v) {
          if (v == u) continue;
          weights[u * n + v] = (w[u * n + v] + w[v * n + u]) / 2;
          total = std::max(total, weights[u * n + v]);
        }
        if (total > heaviest) {
          heaviest = total;
          tree_root = u;
        }
      }
    }
    std::vector<int64_t> parent(n);
    const solvers::TreeSampleStatus status =
        solvers::gibbs_arborescence(weights.data(), n, tree_root, sampler, random, parent.data());
    if (status.unreachable)
      return directed ? "some vertex cannot be reached from the root (no spanning arborescence exists)"
                      : "the graph is disconnected (no spanning tree exists)";
    if (status.too_slow)
      return "sampler \"wilson\" would walk more than 1e12 steps in expectation at these logits; use \"auto\" "
             "or \"sequential\"";
    for (int64_t v = 0; v < n; ++v) {
      if (v == tree_root) continue;
      x[parent[v] * n + v] = 1;
      if (!directed) x[v * n + parent[v]] = 1;
    }
    return "";
  };
  return gibbs::sample_each(function, theta, 2, sample, generator);
}

}  // namespace structgrad::graph
