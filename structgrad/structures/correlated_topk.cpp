#include "structgrad/structures/correlated_topk.h"

#include "structgrad/core/check.h"
#include "structgrad/ops/ksubset.h"
#include "structgrad/solvers/correlated_subset.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/structures/gibbs.h"
#include "structgrad/structures/operators.h"
#include "structgrad/structures/relaxation.h"
#include "structgrad/structures/support.h"

namespace structgrad::correlated_topk {
namespace {

int64_t items_of(const at::Tensor& theta) { return (theta.size(-1) + 1) / 2; }

void check_theta(const char* function, const at::Tensor& theta, int64_t k, const char* name = "theta") {
  check::logits(function, name, theta, 1);
  check::finite(function, name, theta);
  TORCH_CHECK_VALUE(theta.size(-1) % 2 == 1, function, ": ", name, " must end in 2n - 1 scores (n items, then the ",
                    "n - 1 adjacent pairs), got ", theta.size(-1));
  check::in_range(function, "k", k, 0, items_of(theta));
}

at::Tensor relax_scores(const char* function, const at::Tensor& perturbed, int64_t k, const RelaxOptions& options) {
  check_only_regularizer(function, options.regularizer, "exponential_family");
  check::positive(function, "tau", options.tau);
  auto solve = [k](const at::Tensor& z) { return ops::correlated_subset_marginals(z, k); };
  return regularized_argmax(function, perturbed / options.tau, 1, or_default(options.backward, "custom"), solve);
}

}  // namespace

at::Tensor map(const at::Tensor& theta, int64_t k) {
  check_theta("correlated_topk.map", theta, k);
  return ops::correlated_subset_map(theta, k);
}

at::Tensor sample(const at::Tensor& theta, int64_t k, GeneratorOpt generator) {
  check_theta("correlated_topk.sample", theta, k);
  return ops::correlated_subset_map(theta + gumbel_noise(theta.sizes(), theta.options(), generator), k);
}

at::Tensor relax(const at::Tensor& theta, int64_t k, double tau, const std::string& regularizer, bool hard,
                 GeneratorOpt generator, const std::string& backward) {
  const RelaxOptions options{tau, regularizer, hard, explicit_backward("correlated_topk.relax", backward)};
  return family(k).relax(theta, options, generator);
}

at::Tensor relax_perturbed(const at::Tensor& perturbed, int64_t k, double tau, const std::string& regularizer,
                           const std::string& backward) {
  const RelaxOptions options{tau, regularizer, false, explicit_backward("correlated_topk.relax_perturbed", backward)};
  return family(k).relax_perturbed(perturbed, options);
}

at::Tensor log_partition(const at::Tensor& theta, int64_t k) {
  check_theta("correlated_topk.log_partition", theta, k);
  return ops::correlated_subset_log_partition(theta, k);
}

at::Tensor gibbs_sample(const at::Tensor& theta, int64_t k, GeneratorOpt generator) {
  const char* function = "correlated_topk.gibbs_sample";
  check_theta(function, theta, k);
  const int64_t n = items_of(theta);
  auto sample = [n, k](const double* scores, solvers::RandomStream& random, double* x) {
    solvers::gibbs_correlated_subset(scores, n, k, random, x);
    return std::string();
  };
  return gibbs::sample_each(function, theta, 1, sample, generator);
}

at::Tensor marginals(const at::Tensor& theta, int64_t k) {
  check_theta("correlated_topk.marginals", theta, k);
  return ops::correlated_subset_marginals(theta, k);
}

at::Tensor enumerate(int64_t n, int64_t k, const at::TensorOptions& options) {
  TORCH_CHECK_VALUE(n >= 1 && k >= 0 && k <= n, "correlated_topk.enumerate: need n >= 1 and 0 <= k <= n, got n = ", n,
                    ", k = ", k);
  check_enumeration_count("correlated_topk.enumerate", subsets_count(n, k), "C(n, k)");
  const auto subsets = solvers::k_subsets(n, k);
  std::vector<double> flat(subsets.size() * solvers::correlated_subset_size(n), 0.0);
  for (size_t s = 0; s < subsets.size(); ++s) {
    double* z = flat.data() + s * solvers::correlated_subset_size(n);
    for (int64_t i : subsets[s]) z[i] = 1;
    for (int64_t i = 0; i + 1 < n; ++i) z[n + i] = z[i] * z[i + 1];
  }
  return at::tensor(flat, at::kDouble).view({int64_t(subsets.size()), solvers::correlated_subset_size(n)}).to(options);
}

Family family(int64_t k) {
  Family f;
  f.name = "correlated_topk";
  f.event_dim = 1;
  f.theta_event_shape = [](int64_t n) { return std::vector<int64_t>{solvers::correlated_subset_size(n)}; };
  f.check = [k](const char* function, const at::Tensor& theta) { check_theta(function, theta, k); };
  f.map = [k](const at::Tensor& theta) { return map(theta, k); };
  f.sample = [k](const at::Tensor& theta, GeneratorOpt g) { return sample(theta, k, g); };
  f.relax_scores = [k](const char* function, const at::Tensor& perturbed, const RelaxOptions& o) {
    return relax_scores(function, perturbed, k, o);
  };
  f.enumerate = [k](const at::Tensor& theta) { return enumerate(items_of(theta), k, theta.options()); };
  f.log_partition = [k](const at::Tensor& theta) { return log_partition(theta, k); };
  f.marginals = [k](const at::Tensor& theta) { return marginals(theta, k); };
  f.mean = f.marginals;
  f.gibbs_sample = [k](const at::Tensor& theta, GeneratorOpt g) { return gibbs_sample(theta, k, g); };
  f.support = [k](const at::Tensor& x) {
    const int64_t n = items_of(x);
    const at::Tensor items = x.narrow(-1, 0, n), pairs = x.narrow(-1, n, n - 1);
    const at::Tensor adjacent = items.narrow(-1, 0, n - 1) * items.narrow(-1, 1, n - 1);
    return (items.sum(-1) == k) & (pairs == adjacent).all(-1);
  };
  return f;
}

TORCH_LIBRARY_FRAGMENT(structgrad, library) {
  FamilyOperators(library, "correlated_topk")
      .def("map(Tensor theta, int k) -> Tensor", &map,
           "The highest-scoring k-subset with its adjacent-pair indicators: (*batch, 2n - 1), O(nk) DP.")
      .def("sample(Tensor theta, int k, Generator? generator=None) -> Tensor", &sample,
           "Perturb-and-MAP: map(theta + G), one Gumbel per item and per pair score. Not the Gibbs law; it has no "
           "tractable probability.")
      .def("relax(Tensor theta, int k, float tau, str regularizer=\"exponential_family\", bool hard=False, "
           "Generator? generator=None, str backward=\"custom\") -> Tensor",
           &relax,
           "Seed 000's correlated top-k relaxation: the Gibbs marginals of (theta + G) / tau over all 2n - 1 "
           "coordinates. hard=True: the exact sample forward, the relaxed gradient backward. backward=\"custom\" "
           "(hand-written Cov(z) g, O(nk)) or \"finite_difference\".")
      .def("relax_perturbed(Tensor perturbed, int k, float tau, str regularizer=\"exponential_family\", "
           "str backward=\"custom\") -> Tensor",
           &relax_perturbed, "``relax`` on given perturbed scores (no noise drawn).")
      .def("log_partition(Tensor theta, int k) -> Tensor", &log_partition,
           "log sum over structures of exp(<theta, z>): (*batch), log space, finite at any logits.")
      .def("marginals(Tensor theta, int k) -> Tensor", &marginals,
           "E[z] under p(z) ∝ exp(<theta, z>): (*batch, 2n - 1); the item coordinates sum to k.")
      .def("gibbs_sample(Tensor theta, int k, Generator? generator=None) -> Tensor", &gibbs_sample,
           "An exact sample of p(z) ∝ exp(<theta, z>) (not ``sample``'s law): backward sampling through the O(nk) "
           "dynamic program, (*batch, 2n - 1).")
      .def_gibbs_verbs<&family>(", int k")
      .def("enumerate(int n, int k, ScalarType? dtype=None) -> Tensor",
           [](int64_t n, int64_t k, c10::optional<at::ScalarType> dtype) {
             return enumerate(n, k, enumerate_options(dtype));
           },
           "Every structure over n items with k selected: (C(n, k), 2n - 1).");
}

}  // namespace structgrad::correlated_topk
