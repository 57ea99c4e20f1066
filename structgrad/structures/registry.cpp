#include "structgrad/structures/registry.h"

#include "structgrad/structures/arborescence.h"
#include "structgrad/structures/bernoulli.h"
#include "structgrad/structures/binary_tree.h"
#include "structgrad/structures/categorical.h"
#include "structgrad/structures/correlated_topk.h"
#include "structgrad/structures/matching.h"
#include "structgrad/structures/permutation.h"
#include "structgrad/structures/ranking.h"
#include "structgrad/structures/spanning_tree.h"
#include "structgrad/structures/topk.h"

namespace structgrad {

const std::vector<FamilyEntry>& family_registry() {
  static const std::vector<FamilyEntry> entries = {
      {"categorical", "One of n categories as a one-hot vector. theta: (*batch, n) logits.", {},
       [](const FamilyParams&) { return categorical::family(); }},
      {"topk", "k of n items as a (*batch, n) indicator with k ones. theta: (*batch, n) item scores.",
       {{"k", c10::nullopt, "the subset size, 0 <= k <= n"}},
       [](const FamilyParams& p) { return topk::family(p.at("k")); }},
      {"correlated_topk",
       "k of n items with their adjacent selected pairs (seed 000's correlated top-k): (*batch, 2n - 1) with "
       "z[:n] the k-subset and z[n + i] = z[i] z[i + 1]. theta: (*batch, 2n - 1) item scores, then adjacent-pair "
       "scores.",
       {{"k", c10::nullopt, "the subset size, 0 <= k <= n"}},
       [](const FamilyParams& p) { return correlated_topk::family(p.at("k")); }},
      {"ranking",
       "Orderings of n items (Plackett-Luce; insertion sort is its recursion): (*batch, n, n) with x[i, r] = 1 "
       "when item i has rank r. theta: (*batch, n) item scores.",
       {}, [](const FamilyParams&) { return ranking::family(); }},
      {"permutation",
       "Permutations as (*batch, n, n) matrices with P[i, j] = 1 when row i goes to column j. theta: (*batch, n, n) "
       "scores (-inf: a forbidden pair). No log_partition or log_prob: the permanent is #P-hard.",
       {}, [](const FamilyParams&) { return permutation::family(); }},
      {"matching",
       "The greedy row-column matching of seed 002 (the best remaining pair first): (*batch, n, n). theta: "
       "(*batch, n, n) pair scores.",
       {}, [](const FamilyParams&) { return matching::family(); }},
      {"spanning_tree",
       "Spanning trees as symmetric (*batch, n, n) indicators, x[i, j] = x[j, i] = 1 on tree edges. theta: "
       "(*batch, n, n) symmetric edge scores (-inf: absent edge; the diagonal is ignored); a tree scores each "
       "edge once. A disconnected graph raises ValueError.",
       {}, [](const FamilyParams&) { return spanning_tree::family(); }},
      {"arborescence",
       "Arborescences (directed spanning trees out of `root`) as (*batch, n, n) indicators of edges i -> j. "
       "theta: (*batch, n, n) edge scores (-inf: absent edge; the diagonal and edges into the root are "
       "ignored). A root that cannot reach every vertex raises ValueError.",
       {{"root", 0, "the root vertex, 0 <= root < n"}},
       [](const FamilyParams& p) { return arborescence::family(p.at("root")); }},
      {"binary_tree",
       "Binary trees whose in-order traversal is 0..n-1, as (*batch, n, n) with x[p, c] = 1 when p is the parent "
       "of c. theta: (*batch, n) node scores: the best node of a segment is its root.",
       {}, [](const FamilyParams&) { return binary_tree::family(); }},
      {"bernoulli", "n independent binary choices, (*batch, n). theta: (*batch, n) logits.", {},
       [](const FamilyParams&) { return bernoulli::family(); }},
  };
  return entries;
}

std::vector<std::string> family_names() {
  std::vector<std::string> names;
  for (const FamilyEntry& entry : family_registry()) names.push_back(entry.name);
  return names;
}

Family family(const std::string& name, const FamilyParams& params) {
  const auto& entries = family_registry();
  auto entry = std::find_if(entries.begin(), entries.end(), [&](const FamilyEntry& e) { return e.name == name; });
  if (entry == entries.end()) {
    std::string known;
    for (const auto& n : family_names()) known += (known.empty() ? "" : ", ") + n;
    TORCH_CHECK_VALUE(false, "unknown structure family '", name, "' (known: ", known, ")");
  }
  FamilyParams complete;
  for (const FamilyParameter& parameter : entry->parameters) {
    auto given = params.find(parameter.name);
    if (given != params.end()) {
      complete[parameter.name] = given->second;
    } else {
      TORCH_CHECK_VALUE(parameter.default_value.has_value(), "family ", name, ": ", parameter.name, " must be given (",
                        parameter.doc, ")");
      complete[parameter.name] = *parameter.default_value;
    }
  }
  for (const auto& [key, value] : params) {
    if (complete.count(key)) continue;
    std::string known;
    for (const auto& parameter : entry->parameters) known += (known.empty() ? "" : ", ") + parameter.name;
    TORCH_CHECK_VALUE(false, "family ", name, " takes no parameter '", key, "' (it takes: ",
                      known.empty() ? "none" : known, ")");
  }
  Family made = entry->make(complete);
  made.params = complete;
  return made;
}

}  // namespace structgrad
