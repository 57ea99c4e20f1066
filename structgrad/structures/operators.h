// Every tensor-to-tensor verb of a family is also a torch operator, structgrad::<family>_<verb>
// (torch.ops.structgrad.spanning_tree_marginals in Python), so TorchScript and C++ deployments
// can call it; autograd runs through it as through the C++ verb. Each family file registers its
// verbs in one block, with the schema that carries the Python names and defaults and the doc
// text Python shows:
//
//   TORCH_LIBRARY_FRAGMENT(structgrad, library) {
//     FamilyOperators(library, "topk")
//         .def("map(Tensor theta, int k) -> Tensor", &topk::map, "The k highest-scoring items.");
//   }
#pragma once

#include <torch/library.h>

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "structgrad/structures/family.h"

namespace structgrad {

// What a trace operator returns: "trace(Tensor theta, ...) -> " TRACE_RETURNS.
#define STRUCTGRAD_TRACE_RETURNS "(Tensor structure, Tensor trace, Tensor lengths, Tensor perturbed)"
// The trace_log_prob doc every recursive family shares.
#define STRUCTGRAD_TRACE_LOG_PROB_DOC                                                                           \
  "log P(trace), differentiable in theta: (*batch). An invalid trace (an entry that is not an admissible " \
  "choice, a wrong length) raises ValueError."
inline std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> trace_tuple(const Trace& t) {
  return {t.structure, t.trace, t.lengths, t.perturbed};
}

// enumerate's dtype argument ("ScalarType? dtype=None"): float64 unless given.
inline at::TensorOptions enumerate_options(c10::optional<at::ScalarType> dtype) {
  return at::TensorOptions().dtype(dtype.value_or(at::kDouble));
}

struct FamilyOperator {
  std::string family;
  std::string verb;
  std::string doc;
};

// Every operator the families registered, in registration order.
const std::vector<FamilyOperator>& family_operators();

// The documentation of the families that have operators but no Family value in the registry
// (pairwise_binary: its parameters are two tensors), by name: their Python module's doc.
const std::map<std::string, std::string>& operator_family_docs();

class FamilyOperators {
 public:
  FamilyOperators(torch::Library& library, std::string family) : library_(library), family_(std::move(family)) {}
  // A family outside the registry gives its module's doc here.
  FamilyOperators(torch::Library& library, std::string family, const char* module_doc);

  // `verb_schema` is the schema without the family prefix: "map(Tensor theta, int k) -> Tensor".
  template <typename Function>
  FamilyOperators& def(const std::string& verb_schema, Function&& function, const char* doc) {
    const std::string schema = family_ + "_" + verb_schema;
    library_.def(schema.c_str(), std::forward<Function>(function));
    record(verb_schema.substr(0, verb_schema.find('(')), doc);
    return *this;
  }

  // trace, trace_log_prob and conditional_gumbel of a family without parameters.
  template <Trace (*trace)(const at::Tensor&, GeneratorOpt),
            at::Tensor (*trace_log_prob)(const at::Tensor&, const at::Tensor&),
            at::Tensor (*conditional_gumbel)(const at::Tensor&, const at::Tensor&, GeneratorOpt)>
  FamilyOperators& def_trace_verbs(const char* trace_doc) {
    return def("trace(Tensor theta, Generator? generator=None) -> " STRUCTGRAD_TRACE_RETURNS,
               [](const at::Tensor& theta, GeneratorOpt g) { return trace_tuple(trace(theta, g)); }, trace_doc)
        .def("trace_log_prob(Tensor theta, Tensor trace) -> Tensor", trace_log_prob, STRUCTGRAD_TRACE_LOG_PROB_DOC)
        .def("conditional_gumbel(Tensor theta, Tensor trace, Generator? generator=None) -> Tensor", conditional_gumbel,
             "theta + G = -log E given the trace (seed 002 App. B), reparameterized: theta's shape.");
  }

  // The Gibbs verbs every family with a Gibbs law shares (Family::gibbs_log_prob, entropy,
  // kl_divergence), with the family's parameters after the tensors: `params` is the schema's tail
  // (", int k"), `make` the family's factory (&topk::family).
  template <auto make>
  FamilyOperators& def_gibbs_verbs(const std::string& params) {
    return def_gibbs_verbs_of<make>(params, make);
  }

 private:
  template <auto make, typename... Params>
  FamilyOperators& def_gibbs_verbs_of(const std::string& params, Family (*)(Params...)) {
    return def("gibbs_log_prob(Tensor theta, Tensor x" + params + ") -> Tensor",
               [](const at::Tensor& theta, const at::Tensor& x, Params... p) {
                 return make(p...).gibbs_log_prob(theta, x);
               },
               "log p(x) = <theta, x> - log Z under the Gibbs distribution p(x) ∝ exp(<theta, x>) (an undirected "
               "edge counted once): x (*sample, *batch, *event) broadcast against theta, returns (*sample, *batch); "
               "-inf for a structure on an absent part. Differentiable in theta.")
        .def("entropy(Tensor theta" + params + ") -> Tensor",
             [](const at::Tensor& theta, Params... p) { return make(p...).entropy(theta); },
             "The Gibbs distribution's entropy, log Z - <theta, E[x]>: (*batch). Differentiable in theta.")
        .def("kl_divergence(Tensor theta_p, Tensor theta_q" + params + ") -> Tensor",
             [](const at::Tensor& theta_p, const at::Tensor& theta_q, Params... p) {
               return make(p...).kl_divergence(theta_p, theta_q);
             },
             "KL(Gibbs(theta_p) || Gibbs(theta_q)) = log Z_q - log Z_p - <theta_q - theta_p, E_p[x]>: (*batch), "
             "+inf where p has structures q has not. Differentiable in both.");
  }

  void record(const std::string& verb, const char* doc);
  torch::Library& library_;
  std::string family_;
};

}  // namespace structgrad
