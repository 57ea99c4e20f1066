#include "structgrad/structures/operators.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/jit.h>

#include <algorithm>

#include "structgrad/structures/arborescence.h"
#include "structgrad/structures/permutation.h"
#include "structgrad/structures/registry.h"
#include "structgrad/structures/spanning_tree.h"
#include "structgrad/structures/topk.h"
#include "structgrad/testing/testing.h"

namespace structgrad {
namespace {

using testing::seeded;

// `torch.ops.<namespace>.<op>` in TorchScript compiled from C++. torch::jit::compile's own
// resolver maps `torch` to the aten builtins only (Python's resolver and the loader of saved
// models know `ops`); this one reads `torch.ops.structgrad` as the builtin namespace `structgrad`.
struct OpsNamespaces : torch::jit::SugaredValue {
  std::string kind() const override { return "torch.ops"; }
  std::shared_ptr<SugaredValue> attr(const torch::jit::SourceRange&, torch::jit::GraphFunction&,
                                     const std::string& field) override {
    return std::make_shared<torch::jit::BuiltinModule>(field);
  }
};
struct TorchWithOps : torch::jit::SugaredValue {
  std::string kind() const override { return "torch"; }
  std::shared_ptr<SugaredValue> attr(const torch::jit::SourceRange& loc, torch::jit::GraphFunction& m,
                                     const std::string& field) override {
    if (field == "ops") return std::make_shared<OpsNamespaces>();
    return torch::jit::BuiltinModule("aten").attr(loc, m, field);
  }
};
struct OpsResolver : torch::jit::Resolver {
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name, torch::jit::GraphFunction& m,
                                                         const torch::jit::SourceRange& loc) override {
    if (name == "torch") return std::make_shared<TorchWithOps>();
    return torch::jit::nativeResolver()->resolveValue(name, m, loc);
  }
};

std::shared_ptr<torch::jit::CompilationUnit> compile_with_ops(const std::string& source) {
  auto unit = std::make_shared<torch::jit::CompilationUnit>();
  unit->define(c10::nullopt, source, std::make_shared<OpsResolver>(), nullptr);
  return unit;
}

// TorchScript compiled and run in C++, with no Python: a scripted model can call the verbs.
TEST(Operators, TorchScriptCallsTheFamilyVerbs) {
  auto unit = compile_with_ops(R"JIT(
def tree_marginals(theta):
    return torch.ops.structgrad.spanning_tree_marginals(theta)

def arborescence_log_partition(theta, root: int):
    return torch.ops.structgrad.arborescence_log_partition(theta, root)

def permutation_map(theta):
    return torch.ops.structgrad.permutation_map(theta)

def topk_marginals(theta, k: int):
    return torch.ops.structgrad.topk_marginals(theta, k)
)JIT");
  at::Tensor weights = at::randn({2, 5, 5}, seeded(1), at::kDouble);
  at::Tensor symmetric = (weights + weights.transpose(-1, -2)) / 2;
  at::Tensor scores = at::randn({3, 6}, seeded(2), at::kDouble);
  EXPECT_TRUE(at::equal(unit->run_method("tree_marginals", symmetric).toTensor(), spanning_tree::marginals(symmetric)));
  EXPECT_TRUE(at::equal(unit->run_method("arborescence_log_partition", weights, 2).toTensor(),
                        arborescence::log_partition(weights, 2)));
  EXPECT_TRUE(at::equal(unit->run_method("permutation_map", weights).toTensor(), permutation::map(weights)));
  EXPECT_TRUE(at::equal(unit->run_method("topk_marginals", scores, 2).toTensor(), topk::marginals(scores, 2)));
}

TEST(Operators, EveryRegisteredFamilyHasItsCoreVerbsAsOperators) {
  for (const FamilyEntry& entry : family_registry()) {
    for (const char* verb : {"map", "sample", "enumerate"}) {
      const auto& ops = family_operators();
      const bool found = std::any_of(ops.begin(), ops.end(), [&](const FamilyOperator& op) {
        return op.family == entry.name && op.verb == verb && !op.doc.empty();
      });
      EXPECT_TRUE(found) << entry.name << "_" << verb;
    }
  }
}

TEST(Registry, FillsDefaultsAndNamesWhatIsWrong) {
  EXPECT_EQ(family("arborescence").params.at("root"), 0);
  EXPECT_EQ(family("topk", {{"k", 3}}).params.at("k"), 3);
  auto message = [](const std::function<void()>& call) {
    try {
      call();
    } catch (const c10::ValueError& e) {
      return std::string(e.what_without_backtrace());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { family("topk"); }).find("family topk: k must be given"), std::string::npos);
  EXPECT_NE(message([] { family("categorical", {{"k", 2}}); }).find("takes no parameter 'k'"), std::string::npos);
  EXPECT_NE(message([] { family("trees"); }).find("unknown structure family 'trees' (known: categorical"),
            std::string::npos);
}

// The shared relax: hard's forward is map of the same perturbation, i.e. sample's draw.
TEST(FamilyValue, HardRelaxForwardIsTheSampleOfTheSameNoise) {
  for (const std::string name : {"categorical", "topk", "spanning_tree", "arborescence", "permutation", "bernoulli"}) {
    const Family f = name == "topk" ? family(name, {{"k", 2}}) : family(name);
    at::Tensor theta = at::randn(f.event_dim == 1 ? std::vector<int64_t>{3, 5} : std::vector<int64_t>{3, 5, 5},
                                 seeded(3), at::kDouble);
    if (f.symmetric) theta = (theta + theta.transpose(-1, -2)) / 2;
    at::Tensor hard = f.relax(theta, RelaxOptions{0.5, "", true, ""}, seeded(4));
    EXPECT_TRUE(at::equal(hard, f.sample(theta, seeded(4)))) << name;
  }
  EXPECT_THROW(family("matching").relax(at::zeros({3, 3}, at::kDouble), RelaxOptions{}, c10::nullopt),
               c10::ValueError);
}

}  // namespace
}  // namespace structgrad
