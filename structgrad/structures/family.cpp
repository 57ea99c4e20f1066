#include "structgrad/structures/family.h"

#include "structgrad/structures/arborescence.h"
#include "structgrad/structures/bernoulli.h"
#include "structgrad/structures/binary_tree.h"
#include "structgrad/structures/categorical.h"
#include "structgrad/structures/graph.h"
#include "structgrad/structures/matching.h"
#include "structgrad/structures/permutation.h"
#include "structgrad/structures/ranking.h"
#include "structgrad/structures/spanning_tree.h"
#include "structgrad/structures/topk.h"

namespace structgrad {

std::vector<int64_t> Family::batch_shape(const at::Tensor& theta) const {
  TORCH_CHECK_VALUE(theta.dim() >= event_dim, name, ": theta must have at least ", event_dim,
                    " dimension(s)");
  auto sizes = theta.sizes();
  return {sizes.begin(), sizes.end() - event_dim};
}

at::Tensor Family::perturb(const at::Tensor& theta, GeneratorOpt generator) const {
  if (perturbation) return perturbation(theta, generator);
  return theta + graph::edge_noise(theta, symmetric, generator);
}

void check_only_regularizer(const char* function, const std::string& given, const char* only) {
  TORCH_CHECK_VALUE(given.empty() || given == only, function, ": the only regularizer is \"", only, "\", got \"",
                    given, "\"");
}

Family family(const std::string& name, const FamilyOptions& options) {
  if (name == "categorical") return categorical::family();
  if (name == "permutation") return permutation::family();
  if (name == "spanning_tree") return spanning_tree::family();
  if (name == "ranking") return ranking::family();
  if (name == "matching") return matching::family();
  if (name == "binary_tree") return binary_tree::family();
  if (name == "bernoulli") return bernoulli::family();
  if (name == "arborescence") return arborescence::family(options.root);
  if (name == "topk") {
    TORCH_CHECK_VALUE(options.k >= 0, "family topk: the subset size k must be given");
    return topk::family(options.k);
  }
  std::string known;
  for (const auto& n : family_names()) known += (known.empty() ? "" : ", ") + n;
  TORCH_CHECK_VALUE(false, "unknown structure family '", name, "' (known: ", known, ")");
}

std::vector<std::string> family_names() {
  return {"categorical", "topk", "ranking", "permutation", "matching", "spanning_tree", "arborescence", "binary_tree",
          "bernoulli"};
}

}  // namespace structgrad
