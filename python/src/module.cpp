// structgrad._C: the pybind11 bindings. The Python package (python/structgrad) wraps these in
// the public modules structgrad.<family>, structgrad.estimators and structgrad.distributions.
#include <torch/extension.h>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "structgrad/structgrad.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

using structgrad::GeneratorOpt;
namespace est = structgrad::estimators;

py::tuple as_tuple(const est::Estimate& e) { return py::make_tuple(e.surrogate, e.loss); }

py::tuple trace_tuple(const structgrad::Trace& t) { return py::make_tuple(t.structure, t.trace, t.lengths, t.perturbed); }

// The trace verbs of a family that takes no parameter.
void bind_trace_verbs(py::module_& sub, structgrad::Trace (*trace)(const at::Tensor&, GeneratorOpt),
                      at::Tensor (*trace_log_prob)(const at::Tensor&, const at::Tensor&),
                      at::Tensor (*conditional_gumbel)(const at::Tensor&, const at::Tensor&, GeneratorOpt)) {
  sub.def("trace", [trace](const at::Tensor& theta, GeneratorOpt g) { return trace_tuple(trace(theta, g)); },
          "theta"_a, "generator"_a = py::none());
  sub.def("trace_log_prob", trace_log_prob, "theta"_a, "trace"_a);
  sub.def("conditional_gumbel", conditional_gumbel, "theta"_a, "trace"_a, "generator"_a = py::none());
}

// map, sample, log_prob and enumerate of a family that takes no parameter.
void bind_plain_verbs(py::module_& sub, at::Tensor (*map)(const at::Tensor&),
                      at::Tensor (*sample)(const at::Tensor&, GeneratorOpt),
                      at::Tensor (*log_prob)(const at::Tensor&, const at::Tensor&),
                      at::Tensor (*enumerate)(int64_t, const at::TensorOptions&)) {
  sub.def("map", map, "theta"_a);
  sub.def("sample", sample, "theta"_a, "generator"_a = py::none());
  sub.def("log_prob", log_prob, "theta"_a, "x"_a);
  sub.def("enumerate", [enumerate](int64_t n) { return enumerate(n, at::kDouble); }, "n"_a);
}

est::Options estimator_options(double tau, bool hard, const std::string& regularizer, int64_t num_samples) {
  est::Options options;
  options.relax.tau = tau;
  options.relax.hard = hard;
  options.relax.regularizer = regularizer;
  options.num_samples = num_samples;
  return options;
}

void bind_categorical(py::module_& m) {
  namespace cat = structgrad::categorical;
  auto sub = m.def_submodule("categorical");
  sub.def("map", &cat::map, "theta"_a);
  sub.def("sample", &cat::sample, "theta"_a, "generator"_a = py::none());
  sub.def("relax", &cat::relax, "theta"_a, "tau"_a, "regularizer"_a = "entropy", "hard"_a = false,
          "generator"_a = py::none(), "backward"_a = "custom");
  sub.def("log_partition", &cat::log_partition, "theta"_a);
  sub.def("marginals", &cat::marginals, "theta"_a);
  sub.def("log_prob", &cat::log_prob, "theta"_a, "x"_a);
  sub.def("enumerate", [](int64_t n) { return cat::enumerate(n); }, "n"_a);
  bind_trace_verbs(sub, &cat::trace, &cat::trace_log_prob, &cat::conditional_gumbel);
}

void bind_topk(py::module_& m) {
  namespace topk = structgrad::topk;
  auto sub = m.def_submodule("topk");
  sub.def("map", &topk::map, "theta"_a, "k"_a);
  sub.def("sample", &topk::sample, "theta"_a, "k"_a, "generator"_a = py::none());
  sub.def("relax", &topk::relax, "theta"_a, "k"_a, "tau"_a, "regularizer"_a = "exponential_family",
          "hard"_a = false, "generator"_a = py::none(), "backward"_a = "custom");
  sub.def("log_partition", &topk::log_partition, "theta"_a, "k"_a);
  sub.def("marginals", &topk::marginals, "theta"_a, "k"_a);
  sub.def("log_prob", &topk::log_prob, "theta"_a, "x"_a, "k"_a);
  sub.def("enumerate", [](int64_t n, int64_t k) { return topk::enumerate(n, k); }, "n"_a, "k"_a);
  sub.def("relax_perturbed", &topk::relax_perturbed, "perturbed"_a, "k"_a, "tau"_a,
          "regularizer"_a = "exponential_family", "backward"_a = "custom");
  sub.def("trace", [](const at::Tensor& theta, int64_t k, GeneratorOpt g) { return trace_tuple(topk::trace(theta, k, g)); },
          "theta"_a, "k"_a, "generator"_a = py::none());
  sub.def("trace_log_prob", &topk::trace_log_prob, "theta"_a, "trace"_a, "k"_a);
  sub.def("conditional_gumbel", &topk::conditional_gumbel, "theta"_a, "trace"_a, "k"_a, "generator"_a = py::none());
}

// ranking, matching and binary_tree: the families that exist for their recursions.
void bind_recursive_families(py::module_& m) {
  namespace rank = structgrad::ranking;
  auto ranks = m.def_submodule("ranking");
  bind_plain_verbs(ranks, &rank::map, &rank::sample, &rank::log_prob, &rank::enumerate);
  bind_trace_verbs(ranks, &rank::trace, &rank::trace_log_prob, &rank::conditional_gumbel);
  ranks.def("order_log_prob", &rank::order_log_prob, "theta"_a, "order"_a);

  namespace match = structgrad::matching;
  auto matches = m.def_submodule("matching");
  bind_plain_verbs(matches, &match::map, &match::sample, &match::log_prob, &match::enumerate);
  bind_trace_verbs(matches, &match::trace, &match::trace_log_prob, &match::conditional_gumbel);

  namespace bt = structgrad::binary_tree;
  auto trees = m.def_submodule("binary_tree");
  bind_plain_verbs(trees, &bt::map, &bt::sample, &bt::log_prob, &bt::enumerate);
  bind_trace_verbs(trees, &bt::trace, &bt::trace_log_prob, &bt::conditional_gumbel);
}

void bind_bernoulli(py::module_& m) {
  namespace bern = structgrad::bernoulli;
  auto sub = m.def_submodule("bernoulli");
  bind_plain_verbs(sub, &bern::map, &bern::sample, &bern::log_prob, &bern::enumerate);
  sub.def("perturb", &bern::perturb, "theta"_a, "generator"_a = py::none());
  sub.def("relax", &bern::relax, "theta"_a, "tau"_a, "hard"_a = false, "generator"_a = py::none(),
          "backward"_a = "custom");
  sub.def("log_partition", &bern::log_partition, "theta"_a);
  sub.def("marginals", &bern::marginals, "theta"_a);
}

void bind_pairwise_binary(py::module_& m) {
  namespace pb = structgrad::pairwise_binary;
  auto sub = m.def_submodule("pairwise_binary");
  auto options = [](const std::string& solver, double time_limit) { return pb::MapOptions{solver, time_limit}; };
  const double no_limit = std::numeric_limits<double>::infinity();
  sub.def("map", [=](const at::Tensor& h, const at::Tensor& a, const std::string& solver, double time_limit) {
        return pb::map(h, a, options(solver, time_limit));
      }, "h"_a, "a"_a, "solver"_a = "auto", "time_limit"_a = no_limit);
  sub.def("map_with_status", [=](const at::Tensor& h, const at::Tensor& a, const std::string& solver, double time_limit) {
        auto r = pb::map_with_status(h, a, options(solver, time_limit));
        return py::make_tuple(r.z, r.status);
      }, "h"_a, "a"_a, "solver"_a = "auto", "time_limit"_a = no_limit);
  sub.def("sample", [=](const at::Tensor& h, const at::Tensor& a, bool pairwise_noise, GeneratorOpt generator,
                        const std::string& solver, double time_limit) {
        return pb::sample(h, a, pairwise_noise, generator, options(solver, time_limit));
      }, "h"_a, "a"_a, "pairwise_noise"_a = true, "generator"_a = py::none(), "solver"_a = "auto",
      "time_limit"_a = no_limit);
  sub.def("perturb", [](const at::Tensor& h, const at::Tensor& a, bool pairwise_noise, GeneratorOpt generator) {
        auto p = pb::perturb(h, a, pairwise_noise, generator);
        return py::make_tuple(p.h, p.a);
      }, "h"_a, "a"_a, "pairwise_noise"_a = true, "generator"_a = py::none());
  sub.def("score", &pb::score, "h"_a, "a"_a, "z"_a);
  sub.def("log_partition", &pb::log_partition, "h"_a, "a"_a);
  sub.def("enumerate", [](int64_t n) { return pb::enumerate(n); }, "n"_a);
}

void bind_permutation(py::module_& m) {
  namespace perm = structgrad::permutation;
  auto sub = m.def_submodule("permutation");
  sub.def("map", &perm::map, "theta"_a);
  sub.def("sample", &perm::sample, "theta"_a, "generator"_a = py::none());
  sub.def("relax", &perm::relax, "theta"_a, "tau"_a, "iterations"_a = 20, "tolerance"_a = 0.0,
          "backward"_a = "implicit", "hard"_a = false, "generator"_a = py::none());
  sub.def("sinkhorn", &structgrad::ops::sinkhorn, "z"_a, "iterations"_a = 20, "tolerance"_a = 0.0,
          "backward"_a = "implicit");
  sub.def("enumerate", [](int64_t n) { return perm::enumerate(n); }, "n"_a);
}

// A family by name with its parameters (k = -1: not given).
structgrad::Family family(const std::string& name, int64_t k, int64_t root) {
  structgrad::FamilyOptions options;
  options.k = k;
  options.root = root;
  return structgrad::family(name, options);
}

void bind_graph_families(py::module_& m) {
  namespace tree = structgrad::spanning_tree;
  auto trees = m.def_submodule("spanning_tree");
  trees.def("map", &tree::map, "theta"_a);
  trees.def("sample", &tree::sample, "theta"_a, "generator"_a = py::none());
  trees.def("relax", &tree::relax, "theta"_a, "tau"_a, "hard"_a = false, "generator"_a = py::none(),
            "backward"_a = "custom");
  trees.def("log_partition", &tree::log_partition, "theta"_a);
  trees.def("marginals", &tree::marginals, "theta"_a);
  trees.def("enumerate", [](int64_t n) { return tree::enumerate(n); }, "n"_a);
  trees.def("log_prob", &tree::log_prob, "theta"_a, "x"_a);
  bind_trace_verbs(trees, &tree::trace, &tree::trace_log_prob, &tree::conditional_gumbel);

  namespace arb = structgrad::arborescence;
  auto arbs = m.def_submodule("arborescence");
  arbs.def("map", &arb::map, "theta"_a, "root"_a = 0);
  arbs.def("sample", &arb::sample, "theta"_a, "root"_a = 0, "generator"_a = py::none());
  arbs.def("relax", &arb::relax, "theta"_a, "tau"_a, "root"_a = 0, "hard"_a = false, "generator"_a = py::none(),
           "backward"_a = "custom");
  arbs.def("log_partition", &arb::log_partition, "theta"_a, "root"_a = 0);
  arbs.def("marginals", &arb::marginals, "theta"_a, "root"_a = 0);
  arbs.def("enumerate", [](int64_t n, int64_t root) { return arb::enumerate(n, root); }, "n"_a, "root"_a = 0);
  arbs.def("trace", [](const at::Tensor& theta, int64_t root, GeneratorOpt g) {
        return trace_tuple(arb::trace(theta, root, g));
      }, "theta"_a, "root"_a = 0, "generator"_a = py::none());
  arbs.def("trace_log_prob", &arb::trace_log_prob, "theta"_a, "trace"_a, "root"_a = 0);
  arbs.def("conditional_gumbel", &arb::conditional_gumbel, "theta"_a, "trace"_a, "root"_a = 0,
           "generator"_a = py::none());
}

void bind_estimators(py::module_& m) {
  auto sub = m.def_submodule("estimators");
  sub.def("exact", [](const std::string& name, int64_t k, int64_t root, const at::Tensor& theta, const est::LossFn& f) {
        return as_tuple(est::exact(family(name, k, root), theta, f));
      }, "family"_a, "k"_a, "root"_a, "theta"_a, "f"_a);
  sub.def("exact_traces", [](const std::string& name, int64_t k, int64_t root, const at::Tensor& theta,
                             const est::LossFn& f) { return as_tuple(est::exact_traces(family(name, k, root), theta, f)); },
          "family"_a, "k"_a, "root"_a, "theta"_a, "f"_a);
  sub.def("straight_through", [](const std::string& name, int64_t k, int64_t root, const at::Tensor& theta,
                                 const est::LossFn& f, GeneratorOpt generator) {
        return as_tuple(est::straight_through(family(name, k, root), theta, f, generator));
      }, "family"_a, "k"_a, "root"_a, "theta"_a, "f"_a, "generator"_a = py::none());
  sub.def("relaxed", [](const std::string& name, int64_t k, int64_t root, const at::Tensor& theta, const est::LossFn& f,
                        double tau, bool hard, const std::string& regularizer, GeneratorOpt generator,
                        const std::string& backward) {
        structgrad::RelaxOptions options{tau, regularizer, hard, backward};
        return as_tuple(est::relaxed(family(name, k, root), theta, f, options, generator));
      }, "family"_a, "k"_a, "root"_a, "theta"_a, "f"_a, "tau"_a = 1.0, "hard"_a = false, "regularizer"_a = "",
      "generator"_a = py::none(), "backward"_a = "");
  sub.def("reinforce", [](const std::string& name, int64_t k, int64_t root, const at::Tensor& theta, const est::LossFn& f,
                          int64_t num_samples, GeneratorOpt generator) {
        return as_tuple(est::reinforce(family(name, k, root), theta, f, num_samples, generator));
      }, "family"_a, "k"_a, "root"_a, "theta"_a, "f"_a, "num_samples"_a = 8, "generator"_a = py::none());
  // The score-function estimators of seed 002 share one signature.
  using ScoreEstimator = est::Estimate (*)(const structgrad::Family&, const at::Tensor&, const est::LossFn&, int64_t,
                                           GeneratorOpt);
  for (auto [estimator_name, estimator] : {std::pair<const char*, ScoreEstimator>{"e_reinforce", &est::e_reinforce},
                                           {"e_reinforce_plus", &est::e_reinforce_plus},
                                           {"t_reinforce", &est::t_reinforce},
                                           {"t_reinforce_plus", &est::t_reinforce_plus}}) {
    sub.def(estimator_name, [estimator](const std::string& name, int64_t k, int64_t root, const at::Tensor& theta,
                                        const est::LossFn& f, int64_t num_samples, GeneratorOpt generator) {
          est::Estimate e;
          {
            py::gil_scoped_release no_gil;  // the autograd engine runs; f takes the GIL back
            e = estimator(family(name, k, root), theta, f, num_samples, generator);
          }
          return as_tuple(e);
        }, "family"_a, "k"_a, "root"_a, "theta"_a, "f"_a, "num_samples"_a, "generator"_a = py::none());
  }
  sub.def("relax", [](const std::string& name, int64_t k, int64_t root, const at::Tensor& theta, const est::LossFn& f,
                      const c10::optional<est::ControlVariate>& c, double tau, const std::string& regularizer,
                      int64_t num_samples, GeneratorOpt generator) {
        structgrad::RelaxOptions options{tau, regularizer, false, ""};
        est::Estimate e;
        {
          py::gil_scoped_release no_gil;  // the estimator differentiates through f and c
          e = est::relax(family(name, k, root), theta, f, c.value_or(est::ControlVariate()), options, num_samples,
                         generator);
        }
        return as_tuple(e);
      }, "family"_a, "k"_a, "root"_a, "theta"_a, "f"_a, "control_variate"_a, "tau"_a, "regularizer"_a,
      "num_samples"_a, "generator"_a = py::none());
  sub.def("gumbel_rao", [](const std::string& name, int64_t k, int64_t root, const at::Tensor& theta,
                           const est::LossFn& f, double tau, const std::string& regularizer, int64_t num_conditional,
                           GeneratorOpt generator) {
        structgrad::RelaxOptions options{tau, regularizer, false, ""};
        return as_tuple(est::gumbel_rao(family(name, k, root), theta, f, options, num_conditional, generator));
      }, "family"_a, "k"_a, "root"_a, "theta"_a, "f"_a, "tau"_a, "regularizer"_a, "num_conditional"_a,
      "generator"_a = py::none());
  sub.def("direct", [](const std::string& name, int64_t k, int64_t root, const at::Tensor& theta, const est::LossFn& f,
                       double eps, const std::string& argmax, const c10::optional<at::Tensor>& costs,
                       const c10::optional<at::Tensor>& labels, const c10::optional<at::Tensor>& labelled,
                       GeneratorOpt generator) {
        est::DirectOptions options{eps, argmax, costs.value_or(at::Tensor()), labels.value_or(at::Tensor()),
                                   labelled.value_or(at::Tensor())};
        return as_tuple(est::direct(family(name, k, root), theta, f, options, generator));
      }, "family"_a, "k"_a, "root"_a, "theta"_a, "f"_a, "eps"_a, "argmax"_a, "costs"_a, "labels"_a, "labelled"_a,
      "generator"_a = py::none());
  sub.def("direct_pairwise_binary", [](const at::Tensor& h, const at::Tensor& a, const est::LossFn& f, double eps,
                                       const std::string& argmax, const c10::optional<at::Tensor>& costs,
                                       const c10::optional<at::Tensor>& labels,
                                       const c10::optional<at::Tensor>& labelled, bool pairwise_noise,
                                       const std::string& solver, double time_limit, GeneratorOpt generator) {
        est::DirectOptions options{eps, argmax, costs.value_or(at::Tensor()), labels.value_or(at::Tensor()),
                                   labelled.value_or(at::Tensor())};
        est::PairwiseDirectOptions pairwise{pairwise_noise, {solver, time_limit}};
        return as_tuple(est::direct_pairwise_binary(h, a, f, options, pairwise, generator));
      }, "h"_a, "a"_a, "f"_a, "eps"_a, "argmax"_a, "costs"_a, "labels"_a, "labelled"_a, "pairwise_noise"_a, "solver"_a,
      "time_limit"_a, "generator"_a = py::none());
  sub.def("arm", [](const std::string& name, int64_t k, int64_t root, const at::Tensor& theta, const est::LossFn& f,
                    int64_t num_samples, GeneratorOpt generator) {
        return as_tuple(est::arm(family(name, k, root), theta, f, num_samples, generator));
      }, "family"_a, "k"_a, "root"_a, "theta"_a, "f"_a, "num_samples"_a, "generator"_a = py::none());
  py::class_<est::EpsSchedule>(sub, "EpsSchedule")
      .def(py::init([](double start, double rate, int64_t every, double minimum) {
             return est::EpsSchedule{start, rate, every, minimum};
           }), "start"_a = 1.0, "rate"_a = 1e-5, "every"_a = 1000, "minimum"_a = 0.1)
      .def("value", &est::EpsSchedule::value, "step"_a)
      .def_readwrite("start", &est::EpsSchedule::start)
      .def_readwrite("rate", &est::EpsSchedule::rate)
      .def_readwrite("every", &est::EpsSchedule::every)
      .def_readwrite("minimum", &est::EpsSchedule::minimum);
  sub.def("check", [](const std::string& estimator, const std::string& name, int64_t k, int64_t root, const at::Tensor& theta,
                      const est::LossFn& f, int64_t draws, uint64_t seed, double tau, bool hard,
                      const std::string& regularizer, int64_t num_samples, int64_t num_conditional, double eps,
                      const std::string& argmax, double alpha) {
        est::CheckReport r;
        {
          // The check runs the autograd engine, which must not hold the GIL; f takes it back.
          py::gil_scoped_release no_gil;
          est::Options options = estimator_options(tau, hard, regularizer, num_samples);
          options.num_conditional = num_conditional;
          options.direct.eps = eps;
          options.direct.argmax = argmax;
          r = est::check_estimator(estimator, family(name, k, root), theta, f, options, draws, seed, alpha);
        }
        return py::dict("estimator"_a = r.estimator, "family"_a = r.family, "draws"_a = r.draws,
                        "exact_gradient"_a = r.exact_gradient, "mean"_a = r.mean,
                        "standard_error"_a = r.standard_error, "bias"_a = r.bias,
                        "max_abs_z"_a = r.max_abs_z, "critical_z"_a = r.critical_z,
                        "relative_bias"_a = r.relative_bias, "variance"_a = r.variance,
                        "bias_detected"_a = r.bias_detected, "claims_unbiased"_a = r.claims_unbiased,
                        "passed"_a = r.passed, "verdict"_a = r.verdict);
      }, "estimator"_a, "family"_a, "k"_a, "root"_a, "theta"_a, "f"_a, "draws"_a, "seed"_a, "tau"_a, "hard"_a,
      "regularizer"_a, "num_samples"_a, "num_conditional"_a, "eps"_a, "argmax"_a, "alpha"_a);
  sub.def("list", [] {
    py::list out;
    for (const auto& info : est::estimator_list())
      out.append(py::dict("name"_a = info.name, "unbiased"_a = info.unbiased, "description"_a = info.description));
    return out;
  });
}

void bind_distributions(py::module_& m) {
  namespace dist = structgrad::distributions;
  auto sub = m.def_submodule("distributions");
  sub.def("exp_concrete_rsample", [](const at::Tensor& logits, double temperature, std::vector<int64_t> shape,
                                     GeneratorOpt generator) {
        return dist::ExpConcrete(logits, temperature).rsample(shape, generator);
      }, "logits"_a, "temperature"_a, "sample_shape"_a, "generator"_a = py::none());
  sub.def("exp_concrete_log_prob", [](const at::Tensor& logits, double temperature, const at::Tensor& value) {
        return dist::ExpConcrete(logits, temperature).log_prob(value);
      }, "logits"_a, "temperature"_a, "value"_a);
  sub.def("concrete_rsample", [](const at::Tensor& logits, double temperature, std::vector<int64_t> shape,
                                 GeneratorOpt generator) {
        return dist::Concrete(logits, temperature).rsample(shape, generator);
      }, "logits"_a, "temperature"_a, "sample_shape"_a, "generator"_a = py::none());
  sub.def("concrete_log_prob", [](const at::Tensor& logits, double temperature, const at::Tensor& value) {
        return dist::Concrete(logits, temperature).log_prob(value);
      }, "logits"_a, "temperature"_a, "value"_a);

  using OptionalTensor = c10::optional<at::Tensor>;
  auto or_undefined = [](const OptionalTensor& t) { return t.value_or(at::Tensor()); };
  py::class_<dist::IGRSample>(sub, "IGRSample")
      .def_readonly("z", &dist::IGRSample::z)
      .def_readonly("log_z", &dist::IGRSample::log_z)
      .def_readonly("log_prob", &dist::IGRSample::log_prob)
      .def_readonly("num_categories", &dist::IGRSample::num_categories)
      .def_readonly("latent", &dist::IGRSample::latent);
  py::class_<dist::InvertibleGaussian>(sub, "InvertibleGaussian")
      .def("rsample_with_log_prob", [](const dist::InvertibleGaussian& q, std::vector<int64_t> shape,
                                       GeneratorOpt generator) { return q.rsample_with_log_prob(shape, generator); },
           "sample_shape"_a, "generator"_a = py::none())
      .def("rsample", [](const dist::InvertibleGaussian& q, std::vector<int64_t> shape, GeneratorOpt generator,
                         bool hard) { return q.rsample(shape, generator, hard); },
           "sample_shape"_a, "generator"_a = py::none(), "hard"_a = false)
      .def("mean_estimate", [](const dist::InvertibleGaussian& q, int64_t num_samples, GeneratorOpt generator) {
             dist::MonteCarloEstimate mean = q.mean_estimate(num_samples, generator);
             return py::make_tuple(mean.estimate, mean.standard_error);
           }, "num_samples"_a, "generator"_a = py::none())
      .def("transform", &dist::InvertibleGaussian::transform, "y"_a)
      .def("log_prob", [=](const dist::InvertibleGaussian& q, const at::Tensor& z, const OptionalTensor& k) {
             return q.log_prob(z, or_undefined(k));
           }, "value"_a, "num_categories"_a = py::none())
      .def("log_prob_log_space", [=](const dist::InvertibleGaussian& q, const at::Tensor& log_z,
                                     const OptionalTensor& k) { return q.log_prob_log_space(log_z, or_undefined(k)); },
           "log_value"_a, "num_categories"_a = py::none());
  py::class_<dist::IGR, dist::InvertibleGaussian>(sub, "IGR")
      .def(py::init<at::Tensor, at::Tensor, double, double>(), "loc"_a, "scale"_a, "temperature"_a, "delta"_a);
  py::class_<dist::IGRPlanar, dist::InvertibleGaussian>(sub, "IGRPlanar")
      .def(py::init<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, double, double>(), "loc"_a,
           "scale"_a, "u"_a, "w"_a, "b"_a, "temperature"_a, "delta"_a);
  py::class_<dist::IGRStickBreaking, dist::InvertibleGaussian>(sub, "IGRStickBreaking")
      .def(py::init<at::Tensor, at::Tensor, double, double, double>(), "loc"_a, "scale"_a, "temperature"_a,
           "delta"_a, "rho"_a);
  sub.def("log_softmax_pp", &dist::log_softmax_pp, "x"_a, "delta"_a);
  sub.def("hard", &dist::hard, "z"_a);
  sub.def("igr_kl_divergence", &dist::kl_divergence, "q"_a, "p"_a);
  auto as_pair = [](const dist::MonteCarloEstimate& e) { return py::make_tuple(e.estimate, e.standard_error); };
  sub.def("igr_monte_carlo_kl", [=](const dist::InvertibleGaussian& q, const dist::InvertibleGaussian& p,
                                    int64_t num_samples, GeneratorOpt generator) {
        return as_pair(dist::monte_carlo_kl(q, p, num_samples, generator));
      }, "q"_a, "p"_a, "num_samples"_a, "generator"_a = py::none());
  sub.def("exp_concrete_monte_carlo_kl", [=](const at::Tensor& logits_q, const at::Tensor& logits_p,
                                             double temperature, int64_t num_samples, GeneratorOpt generator) {
        return as_pair(dist::monte_carlo_kl(dist::ExpConcrete(logits_q, temperature),
                                            dist::ExpConcrete(logits_p, temperature), num_samples, generator));
      }, "logits_q"_a, "logits_p"_a, "temperature"_a, "num_samples"_a, "generator"_a = py::none());
  sub.def("fit_prior", [](const at::Tensor& target, const std::string& family, int64_t num_categories,
                          double temperature, double delta, double rho, bool hard, int64_t steps, int64_t num_samples,
                          double learning_rate, double init_scale, int64_t eval_samples, uint64_t seed) {
        dist::PriorFitOptions options{family, num_categories, temperature, delta, rho, hard, steps,
                                      num_samples, learning_rate, init_scale, eval_samples, seed};
        dist::PriorFit fit;
        {
          py::gil_scoped_release no_gil;  // the fit runs the autograd engine
          fit = dist::fit_prior(target, options);
        }
        return py::dict("loc"_a = fit.loc, "scale"_a = fit.scale.defined() ? py::cast(fit.scale) : py::none(),
                        "probabilities"_a = fit.probabilities, "total_variation"_a = fit.total_variation,
                        "argmax_total_variation"_a = fit.argmax_total_variation,
                        "initial_total_variation"_a = fit.initial_total_variation);
      }, "target"_a, "family"_a, "num_categories"_a, "temperature"_a, "delta"_a, "rho"_a, "hard"_a, "steps"_a,
      "num_samples"_a, "learning_rate"_a, "init_scale"_a, "eval_samples"_a, "seed"_a);
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "structgrad C++ core";
  // c10 errors arrive as the matching Python exceptions, with the message and no C++ backtrace.
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const c10::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what_without_backtrace());
    } catch (const c10::IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what_without_backtrace());
    } catch (const c10::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what_without_backtrace());
    } catch (const c10::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what_without_backtrace());
    }
  });
  m.def("set_threads", &structgrad::set_threads, "threads"_a);
  m.def("family_names", &structgrad::family_names);
  bind_categorical(m);
  bind_topk(m);
  bind_recursive_families(m);
  bind_bernoulli(m);
  bind_pairwise_binary(m);
  bind_permutation(m);
  bind_graph_families(m);
  bind_estimators(m);
  bind_distributions(m);
}
