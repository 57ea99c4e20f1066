// structgrad._C: the pybind11 bindings of what is not a family verb. The family verbs are torch
// operators (structures/operators.h) that loading this module registers; the Python package
// (python/structgrad) builds structgrad.<family> from them and the registry bound here, and wraps
// the rest in structgrad.estimators and structgrad.distributions.
#include <torch/extension.h>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "structgrad/structgrad.h"
#include "structgrad/structures/operators.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

using structgrad::GeneratorOpt;
namespace est = structgrad::estimators;

py::tuple as_tuple(const est::Estimate& e) { return py::make_tuple(e.surrogate, e.loss); }


est::Options estimator_options(double tau, bool hard, const std::string& regularizer, int64_t num_samples) {
  est::Options options;
  options.relax.tau = tau;
  options.relax.hard = hard;
  options.relax.regularizer = regularizer;
  options.num_samples = num_samples;
  return options;
}

// The families: a `Family` value by name (structures/registry.h), the registry itself and the
// operators each family registered with torch (torch.ops.structgrad.<family>_<verb>), from which
// the package builds its structgrad.<family> modules.
void bind_families(py::module_& m) {
  py::class_<structgrad::Family>(m, "Family")
      .def_readonly("name", &structgrad::Family::name)
      .def_readonly("params", &structgrad::Family::params)
      .def_readonly("event_dim", &structgrad::Family::event_dim)
      .def_readonly("symmetric", &structgrad::Family::symmetric)
      .def("event_shape", &structgrad::Family::event_shape, py::arg("n"),
           "theta's event shape for an instance of n items or vertices (correlated_topk: [2n - 1])")
      .def("__repr__", [](const structgrad::Family& f) {
        std::string params;
        for (const auto& [key, value] : f.params) params += ", " + key + "=" + std::to_string(value);
        return "structgrad.family('" + f.name + "'" + params + ")";
      });
  m.def("family", [](const std::string& name, const structgrad::FamilyParams& params) {
        return structgrad::family(name, params);
      }, "name"_a, "params"_a);
  m.def("family_names", &structgrad::family_names);
  m.def("families", [] {
    py::list out;
    for (const structgrad::FamilyEntry& entry : structgrad::family_registry()) {
      py::list parameters;
      for (const auto& p : entry.parameters)
        parameters.append(py::dict("name"_a = p.name, "default"_a = p.default_value, "doc"_a = p.doc));
      out.append(py::dict("name"_a = entry.name, "doc"_a = entry.doc, "parameters"_a = parameters));
    }
    return out;
  });
  m.def("operator_families", [] { return structgrad::operator_family_docs(); });
  m.def("operators", [] {
    py::list out;
    for (const structgrad::FamilyOperator& op : structgrad::family_operators())
      out.append(py::dict("family"_a = op.family, "verb"_a = op.verb, "doc"_a = op.doc));
    return out;
  });
}

// The estimators, with their defaults (estimators.h) and the documentation Python shows, written
// here once: python/structgrad/estimators.py wraps each binding with the signature and doc
// pybind11 gives it (and the family taken by name, module or value, with keyword parameters).
const char* const kEstimatorConventions =
    "\n\nfamily: a structgrad.Family value (the Python wrapper also takes a name or a family module, with the "
    "family's parameters as keywords). f maps structures (S, *batch, *event) to losses (S, *batch). Returns "
    "(surrogate, loss): surrogate.backward() leaves in theta.grad[b] the estimate of the gradient of E[f(x_b)] "
    "(summed over the batch), loss is the per-instance loss estimate (*batch), detached.";

std::string estimator_doc(const char* text) { return std::string(text) + kEstimatorConventions; }

// Runs an estimator without the GIL: the autograd engine runs inside, and f takes the GIL back.
template <typename Run>
py::tuple without_gil(Run&& run) {
  est::Estimate e;
  {
    py::gil_scoped_release no_gil;
    e = run();
  }
  return as_tuple(e);
}

double eps_value(const py::object& eps, int64_t step) {
  if (py::isinstance<est::EpsSchedule>(eps)) return eps.cast<est::EpsSchedule>().value(step);
  return eps.cast<double>();
}

est::DirectOptions direct_options(const py::object& eps, int64_t step, const std::string& argmax,
                                  const c10::optional<at::Tensor>& costs, const c10::optional<at::Tensor>& labels,
                                  const c10::optional<at::Tensor>& labelled) {
  return {eps_value(eps, step), argmax, costs.value_or(at::Tensor()), labels.value_or(at::Tensor()),
          labelled.value_or(at::Tensor())};
}

void bind_estimators(py::module_& m) {
  auto sub = m.def_submodule("estimators");
  const structgrad::RelaxOptions relax_defaults;
  const est::DirectOptions direct_defaults;
  py::class_<est::EpsSchedule>(sub, "EpsSchedule",
                               "The epsilon annealing of seed 003 §5: every ``every`` steps, eps = max(minimum, "
                               "start * exp(-rate * step)) (with start's sign). ``EpsSchedule().value(step)``.")
      .def(py::init([](double start, double rate, int64_t every, double minimum) {
             return est::EpsSchedule{start, rate, every, minimum};
           }), "start"_a = est::EpsSchedule{}.start, "rate"_a = est::EpsSchedule{}.rate,
           "every"_a = est::EpsSchedule{}.every, "minimum"_a = est::EpsSchedule{}.minimum)
      .def("value", &est::EpsSchedule::value, "step"_a)
      .def_readwrite("start", &est::EpsSchedule::start)
      .def_readwrite("rate", &est::EpsSchedule::rate)
      .def_readwrite("every", &est::EpsSchedule::every)
      .def_readwrite("minimum", &est::EpsSchedule::minimum);
  sub.def("exact", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f) {
        return as_tuple(est::exact(family, theta, f));
      }, estimator_doc("The exact gradient by enumerating every structure (seed 003, Eq. 2).").c_str(),
      "family"_a, "theta"_a, "f"_a);
  sub.def("exact_traces", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f) {
        return as_tuple(est::exact_traces(family, theta, f));
      }, estimator_doc("The exact gradient under the law of ``family.trace`` by enumerating every trace (small "
                       "instances): the reference for the trace estimators, and the only exact one for "
                       "arborescence traces.").c_str(),
      "family"_a, "theta"_a, "f"_a);
  sub.def("exact_gibbs", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f) {
        return as_tuple(est::exact_gibbs(family, theta, f));
      }, estimator_doc("The exact gradient under the family's Gibbs distribution p(x) ∝ exp(<theta, x>), by "
                       "enumeration: the reference for ``gibbs_reinforce``.").c_str(),
      "family"_a, "theta"_a, "f"_a);
  sub.def("straight_through", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f,
                                 GeneratorOpt generator) {
        return as_tuple(est::straight_through(family, theta, f, generator));
      }, estimator_doc("The exact sample forward, the gradient of the family's mean (its marginals) backward. "
                       "Biased.").c_str(),
      "family"_a, "theta"_a, "f"_a, "generator"_a = py::none());
  sub.def("relaxed", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f,
                        double tau, bool hard, const std::string& regularizer, GeneratorOpt generator,
                        const std::string& backward) {
        structgrad::RelaxOptions options{tau, regularizer, hard, backward};
        return as_tuple(est::relaxed(family, theta, f, options, generator));
      }, estimator_doc("The stochastic softmax trick: f evaluated on ``family.relax(theta, tau, ...)`` (the "
                       "family's default regularizer and backward when empty). Biased.").c_str(),
      "family"_a, "theta"_a, "f"_a, "tau"_a = relax_defaults.tau, "hard"_a = relax_defaults.hard,
      "regularizer"_a = relax_defaults.regularizer, "generator"_a = py::none(),
      "backward"_a = relax_defaults.backward);
  sub.def("reinforce", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f,
                          int64_t num_samples, GeneratorOpt generator) {
        return as_tuple(est::reinforce(family, theta, f, num_samples, generator));
      }, estimator_doc("REINFORCE with ``num_samples`` >= 2 samples and the leave-one-out baseline. "
                       "Unbiased.").c_str(),
      "family"_a, "theta"_a, "f"_a, "num_samples"_a = est::kLeaveOneOutSamples, "generator"_a = py::none());
  sub.def("gibbs_reinforce", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f,
                                int64_t num_samples, GeneratorOpt generator) {
        return as_tuple(est::gibbs_reinforce(family, theta, f, num_samples, generator));
      }, estimator_doc("REINFORCE under the Gibbs distribution p(x) ∝ exp(<theta, x>): ``num_samples`` >= 2 "
                       "exact Gibbs samples (``gibbs_sample``), the score of ``gibbs_log_prob``, the leave-one-out "
                       "baseline. Unbiased for E_Gibbs[f] (another expectation than ``reinforce``'s for the "
                       "structured families); the score-function estimator of correlated_topk.").c_str(),
      "family"_a, "theta"_a, "f"_a, "num_samples"_a = est::kLeaveOneOutSamples, "generator"_a = py::none());
  // The score-function estimators of seed 002 share one signature.
  using ScoreEstimator = est::Estimate (*)(const structgrad::Family&, const at::Tensor&, const est::LossFn&, int64_t,
                                           GeneratorOpt);
  struct ScoreBinding {
    const char* name;
    ScoreEstimator estimator;
    int64_t num_samples;
    const char* doc;
  };
  for (const ScoreBinding& b : {
           ScoreBinding{"e_reinforce", &est::e_reinforce, 1,
                        "E-REINFORCE (seed 002 Eq. 1): the score of the exponential perturbation E behind each "
                        "recursive Gumbel-Max sample, averaged over ``num_samples``. Unbiased; the highest "
                        "variance."},
           ScoreBinding{"e_reinforce_plus", &est::e_reinforce_plus, est::kLeaveOneOutSamples,
                        "E-REINFORCE with ``num_samples`` >= 2 samples and the leave-one-out baseline. Unbiased."},
           ScoreBinding{"t_reinforce", &est::t_reinforce, 1,
                        "T-REINFORCE (seed 002 Eq. 2): the score of the trace, averaged over ``num_samples``. "
                        "Unbiased, with variance at most E-REINFORCE's (Eq. 5)."},
           ScoreBinding{"t_reinforce_plus", &est::t_reinforce_plus, est::kLeaveOneOutSamples,
                        "T-REINFORCE+ (seed 002 Eq. 7): ``num_samples`` >= 2 traces, leave-one-out baseline. "
                        "Unbiased."}}) {
    sub.def(b.name, [estimator = b.estimator](const structgrad::Family& family, const at::Tensor& theta,
                                              const est::LossFn& f, int64_t num_samples, GeneratorOpt generator) {
          return without_gil([&] { return estimator(family, theta, f, num_samples, generator); });
        }, estimator_doc(b.doc).c_str(), "family"_a, "theta"_a, "f"_a, "num_samples"_a = b.num_samples,
        "generator"_a = py::none());
  }
  sub.def("relax", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f,
                      const c10::optional<est::ControlVariate>& c, double tau, const std::string& regularizer,
                      int64_t num_samples, GeneratorOpt generator) {
        structgrad::RelaxOptions options{tau, regularizer, false, ""};
        return without_gil([&] {
          return est::relax(family, theta, f, c.value_or(est::ControlVariate()), options, num_samples, generator);
        });
      }, estimator_doc("RELAX (seed 002 Eq. 6): (f(x) - c(e~)) grad log P(T) - grad c(e~) + grad c(e), with e~ "
                       "drawn from E given the trace. Unbiased.\n\n``control_variate`` maps perturbations "
                       "(S, *batch, *event) (theta + G) to (S, *batch). None: the relaxed loss "
                       "f(relax_perturbed(e, tau)) of the family's SST relaxation. Given (a module), the surrogate "
                       "also carries the variance objective sum ||g||^2, so ``surrogate.backward()`` gives its "
                       "parameters the gradient that lowers the estimator's variance.").c_str(),
      "family"_a, "theta"_a, "f"_a, "control_variate"_a = py::none(), "tau"_a = relax_defaults.tau,
      "regularizer"_a = relax_defaults.regularizer, "num_samples"_a = 1, "generator"_a = py::none());
  sub.def("rebar", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f, double eta,
                      double tau, const std::string& regularizer, int64_t num_samples, GeneratorOpt generator) {
        structgrad::RelaxOptions options{tau, regularizer, false, ""};
        return without_gil([&] { return est::rebar(family, theta, f, eta, options, num_samples, generator); });
      }, estimator_doc("REBAR (Tucker et al. 2017): RELAX whose control variate is eta f(relax_perturbed(e, tau)), "
                       "eta and tau fixed. Unbiased for any eta; eta = 1 is ``relax`` without a control variate. "
                       "For families with a trace and conditional perturbations (bernoulli, categorical, the "
                       "structured families as relax).").c_str(),
      "family"_a, "theta"_a, "f"_a, "eta"_a = 1.0, "tau"_a = relax_defaults.tau,
      "regularizer"_a = relax_defaults.regularizer, "num_samples"_a = 1, "generator"_a = py::none());
  sub.def("gumbel_rao", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f,
                           double tau, const std::string& regularizer, int64_t num_conditional,
                           GeneratorOpt generator) {
        structgrad::RelaxOptions options{tau, regularizer, false, ""};
        return as_tuple(est::gumbel_rao(family, theta, f, options, num_conditional, generator));
      }, estimator_doc("Gumbel-Rao (beyond the seeds): the exact sample forward; backward, the gradient of the SST "
                       "relaxation at theta + G (G held fixed) averaged over ``num_conditional`` draws of G given "
                       "the trace. The same expectation as ``relaxed(hard=True)`` (as biased), with less "
                       "variance.").c_str(),
      "family"_a, "theta"_a, "f"_a, "tau"_a = relax_defaults.tau, "regularizer"_a = relax_defaults.regularizer,
      "num_conditional"_a = est::kConditionalDraws, "generator"_a = py::none());
  sub.def("direct", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f,
                       const py::object& eps, int64_t step, const std::string& argmax,
                       const c10::optional<at::Tensor>& costs, const c10::optional<at::Tensor>& labels,
                       const c10::optional<at::Tensor>& labelled, GeneratorOpt generator) {
        const est::DirectOptions options = direct_options(eps, step, argmax, costs, labels, labelled);
        return as_tuple(est::direct(family, theta, f, options, generator));
      }, estimator_doc("Direct optimization through argmax (seed 003, Theorem 1): with one perturbation G, "
                       "z* = map(theta + G) and the loss-augmented z*(eps) = argmax <theta + G, z> + eps f(z); the "
                       "gradient estimate is (z*(eps) - z*) / eps. Biased for eps > 0; a negative eps is the other "
                       "one-sided difference.\n\n``eps``: a float, or an ``EpsSchedule`` evaluated at ``step``. "
                       "``argmax``: \"enumerate\" (exact: f on every structure, e.g. every category), \"linear\" "
                       "(f(z) = <costs, z>, the family's own solver) or \"flip\" (seed 003 §4.1's low-dimensional "
                       "approximation: costs from f with one part of z* switched on and off). ``labels`` (theta's "
                       "shape) and ``labelled`` (*batch, bool): semi-supervision (§4.2), where the label replaces "
                       "the loss-augmented prediction so that a descent step raises the label's score.").c_str(),
      "family"_a, "theta"_a, "f"_a, "eps"_a = direct_defaults.eps, "step"_a = 0,
      "argmax"_a = direct_defaults.argmax, "costs"_a = py::none(), "labels"_a = py::none(),
      "labelled"_a = py::none(), "generator"_a = py::none());
  const structgrad::pairwise_binary::MapOptions map_defaults;
  const est::PairwiseDirectOptions pairwise_defaults;
  sub.def("direct_pairwise_binary", [](const at::Tensor& h, const at::Tensor& a, const est::LossFn& f,
                                       const py::object& eps, int64_t step, const std::string& argmax,
                                       const c10::optional<at::Tensor>& costs,
                                       const c10::optional<at::Tensor>& labels,
                                       const c10::optional<at::Tensor>& labelled, bool pairwise_noise,
                                       const std::string& solver, double time_limit, GeneratorOpt generator) {
        const est::DirectOptions options = direct_options(eps, step, argmax, costs, labels, labelled);
        est::PairwiseDirectOptions pairwise{pairwise_noise, {solver, time_limit}};
        return as_tuple(est::direct_pairwise_binary(h, a, f, options, pairwise, generator));
      }, estimator_doc("Direct optimization for the structured encoder of seed 003 §4.1 "
                       "(``structgrad.pairwise_binary``): score(z) = <h, z> + sum_{i<j} a_ij z_i z_j, perturbed as "
                       "``pairwise_binary.sample`` perturbs it, with z* and z*(eps) from ``pairwise_binary.map`` "
                       "(``solver``, ``time_limit``). The surrogate gives h the estimate (z*(eps) - z*) / eps and "
                       "a's upper triangle (z*(eps) z*(eps)^T - z* z*^T) / eps.\n\n``argmax``: \"enumerate\" "
                       "(exact, f on all 2^n states, n <= 16), \"linear\" (``costs`` (*batch, n)) or \"flip\" "
                       "(the low-dimensional approximation f(z*_1, ..., z_i, ..., z*_n)). Augmenting moves only "
                       "the unaries, so with ``pairwise_noise=False`` a supermodular a keeps max-flow usable. "
                       "``labels`` (*batch, n) and ``labelled`` (*batch) as in ``direct``.").c_str(),
      "h"_a, "a"_a, "f"_a, "eps"_a = direct_defaults.eps, "step"_a = 0, "argmax"_a = direct_defaults.argmax,
      "costs"_a = py::none(), "labels"_a = py::none(), "labelled"_a = py::none(),
      "pairwise_noise"_a = pairwise_defaults.pairwise_noise, "solver"_a = map_defaults.solver,
      "time_limit"_a = map_defaults.time_limit_seconds, "generator"_a = py::none());
  sub.def("arm", [](const structgrad::Family& family, const at::Tensor& theta, const est::LossFn& f,
                    int64_t num_samples, GeneratorOpt generator) {
        return as_tuple(est::arm(family, theta, f, num_samples, generator));
      }, estimator_doc("ARM (augment-REINFORCE-merge, beyond the seeds) for ``structgrad.bernoulli``: two "
                       "antithetic evaluations of f per sample, (f(1[u > sigmoid(-theta)]) - "
                       "f(1[u < sigmoid(theta)])) (u - 1/2). Unbiased.").c_str(),
      "family"_a, "theta"_a, "f"_a, "num_samples"_a = 1, "generator"_a = py::none());
  sub.def("check", [](const std::string& estimator, const structgrad::Family& family, const at::Tensor& theta,
                      const est::LossFn& f, int64_t draws, uint64_t seed, double tau, bool hard,
                      const std::string& regularizer, int64_t num_samples, int64_t num_conditional, double eps,
                      const std::string& argmax, double alpha, double eta) {
        est::CheckReport r;
        {
          // The check runs the autograd engine, which must not hold the GIL; f takes it back.
          py::gil_scoped_release no_gil;
          est::Options options = estimator_options(tau, hard, regularizer, num_samples);
          options.num_conditional = num_conditional;
          options.direct.eps = eps;
          options.direct.argmax = argmax;
          options.eta = eta;
          r = est::check_estimator(estimator, family, theta, f, options, draws, seed, alpha);
        }
        return py::dict("estimator"_a = r.estimator, "family"_a = r.family, "draws"_a = r.draws,
                        "exact_gradient"_a = r.exact_gradient, "mean"_a = r.mean,
                        "standard_error"_a = r.standard_error, "bias"_a = r.bias,
                        "max_abs_z"_a = r.max_abs_z, "critical_z"_a = r.critical_z,
                        "relative_bias"_a = r.relative_bias, "variance"_a = r.variance,
                        "bias_detected"_a = r.bias_detected, "claims_unbiased"_a = r.claims_unbiased,
                        "passed"_a = r.passed, "verdict"_a = r.verdict);
      }, "Compare ``draws`` independent draws of an estimator with the exact gradient by enumeration.\n\n"
      "theta is one instance (no batch dimension). Returns the exact gradient, the draws' mean, standard error, "
      "bias, max |z|, the critical z (Bonferroni at level alpha), the relative bias, a verdict and ``passed`` "
      "(False only when an unbiased estimator showed bias).",
      "estimator"_a, "family"_a, "theta"_a, "f"_a, "draws"_a = est::kCheckDraws, "seed"_a = 0,
      "tau"_a = est::Options{}.relax.tau, "hard"_a = est::Options{}.relax.hard,
      "regularizer"_a = est::Options{}.relax.regularizer, "num_samples"_a = est::Options{}.num_samples,
      "num_conditional"_a = est::Options{}.num_conditional, "eps"_a = est::Options{}.direct.eps,
      "argmax"_a = est::Options{}.direct.argmax, "alpha"_a = est::kCheckLevel, "eta"_a = est::Options{}.eta);
  sub.def("list", [] {
    py::list out;
    for (const auto& info : est::estimator_list())
      out.append(py::dict("name"_a = info.name, "unbiased"_a = info.unbiased, "description"_a = info.description));
    return out;
  }, "Every estimator with whether it is unbiased and a one-line description.");
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
  bind_families(m);
  bind_estimators(m);
  bind_distributions(m);
}
