#include "structgrad/structures/binary_tree.h"

#include <functional>

#include "structgrad/core/check.h"
#include "structgrad/solvers/recursive_algorithms.h"
#include "structgrad/structures/operators.h"
#include "structgrad/structures/recursive.h"
#include "structgrad/structures/support.h"

namespace structgrad::binary_tree {
namespace {

void check_theta(const char* function, const at::Tensor& theta) {
  check::logits(function, "theta", theta, 1);
  check::finite(function, "theta", theta);
}

recursive::KeySpace key_space(int64_t n) {
  recursive::KeySpace space;
  space.structure_shape = {n, n};
  space.factory = [n] { return std::make_unique<solvers::BinaryTreeRecursion>(n); };
  return space;
}

recursive::TraceVerbs verbs() {
  return {"binary_tree", check_theta, [](const at::Tensor& theta) { return key_space(theta.size(-1)); }};
}

// The trace of each tree (*, n, n) -> (*, n): the segments' roots in the recursion's order.
at::Tensor trace_of(const at::Tensor& x) {
  const int64_t n = x.size(-1);
  at::Tensor trees = x.reshape({-1, n, n}).to(at::kDouble).contiguous();
  const int64_t count = trees.size(0);
  at::Tensor out = at::empty({count, n}, at::kLong);
  for (int64_t t = 0; t < count; ++t) {
    const double* a = trees.data_ptr<double>() + t * n * n;
    struct Segment { int64_t begin, end, parent; };
    std::vector<Segment> level{{0, n, -1}};
    int64_t position = 0;
    while (!level.empty()) {
      std::vector<Segment> next;
      for (const Segment& s : level) {
        int64_t root = -1;
        for (int64_t v = s.begin; v < s.end; ++v) {
          bool has_parent = false;
          for (int64_t p = 0; p < n; ++p) has_parent = has_parent || a[p * n + v] != 0;
          const bool parent_is_s = s.parent < 0 ? !has_parent : a[s.parent * n + v] != 0;
          if (parent_is_s) {
            TORCH_CHECK_VALUE(root < 0, "binary_tree.log_prob: x is not a binary tree over the sequence 0..n-1");
            root = v;
          }
        }
        TORCH_CHECK_VALUE(root >= 0, "binary_tree.log_prob: x is not a binary tree over the sequence 0..n-1");
        out[t][position++] = root;
        if (root > s.begin) next.push_back({s.begin, root, root});
        if (root + 1 < s.end) next.push_back({root + 1, s.end, root});
      }
      level = std::move(next);
    }
  }
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end() - 1);
  return out.reshape(shape);
}

}  // namespace

at::Tensor map(const at::Tensor& theta) {
  check_theta("binary_tree.map", theta);
  return recursive::run_on(theta, key_space(theta.size(-1)));
}

at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator) {
  check_theta("binary_tree.sample", theta);
  return recursive::trace(theta, key_space(theta.size(-1)), generator).structure;
}

at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x) {
  check_theta("binary_tree.log_prob", theta);
  const int64_t n = theta.size(-1);
  TORCH_CHECK_VALUE(x.dim() >= 2 && x.size(-1) == n && x.size(-2) == n, "binary_tree.log_prob: x must end in (", n,
                    ", ", n, "), got ", check::shape_string(x.sizes()));
  check_indicators("binary_tree.log_prob", x);
  at::Tensor traces = trace_of(x);
  std::vector<int64_t> expanded(traces.sizes().begin(), traces.sizes().end());
  return recursive::trace_log_prob("binary_tree.log_prob", theta.expand(expanded), traces, key_space(n));
}

at::Tensor enumerate(int64_t n, const at::TensorOptions& options) {
  TORCH_CHECK_VALUE(n >= 1 && n <= 10, "binary_tree.enumerate: n must be in [1, 10], got ", n);
  // Every tree as a parent array: choose a root in [begin, end), then every left and right tree.
  std::function<std::vector<std::vector<int64_t>>(int64_t, int64_t, int64_t)> trees =
      [&](int64_t begin, int64_t end, int64_t parent) {
        std::vector<std::vector<int64_t>> out;
        if (begin == end) return std::vector<std::vector<int64_t>>{std::vector<int64_t>(n, -2)};
        for (int64_t root = begin; root < end; ++root)
          for (const auto& left : trees(begin, root, root))
            for (const auto& right : trees(root + 1, end, root)) {
              std::vector<int64_t> parents(n, -2);
              for (int64_t v = 0; v < n; ++v) parents[v] = left[v] != -2 ? left[v] : right[v];
              parents[root] = parent;
              out.push_back(parents);
            }
        return out;
      };
  auto all = trees(0, n, -1);
  at::Tensor out = at::zeros({int64_t(all.size()), n, n}, options);
  for (size_t t = 0; t < all.size(); ++t)
    for (int64_t v = 0; v < n; ++v)
      if (all[t][v] >= 0) out[t][all[t][v]][v] = 1;
  return out;
}

Trace trace(const at::Tensor& theta, GeneratorOpt generator) { return verbs().trace(theta, generator); }

at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace) {
  return verbs().trace_log_prob(theta, trace);
}

at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, GeneratorOpt generator) {
  return verbs().conditional_gumbel(theta, trace, generator);
}

Family family() {
  Family f;
  f.name = "binary_tree";
  f.event_dim = 1;
  f.check = check_theta;
  f.map = map;
  f.sample = sample;
  f.enumerate = enumerate_by_size(enumerate);
  f.log_prob = log_prob;
  verbs().install(f);
  return f;
}

TORCH_LIBRARY_FRAGMENT(structgrad, library) {
  FamilyOperators(library, "binary_tree")
      .def("map(Tensor theta) -> Tensor", &map, "The tree of theta.")
      .def("sample(Tensor theta, Generator? generator=None) -> Tensor", &sample, "The tree of theta + G.")
      .def("log_prob(Tensor theta, Tensor x) -> Tensor", &log_prob,
           "log P(sample == x): a tree fixes its trace, so this is the trace's log-probability; (*, *batch).")
      .def("enumerate(int n, ScalarType? dtype=None) -> Tensor",
           [](int64_t n, c10::optional<at::ScalarType> dtype) { return enumerate(n, enumerate_options(dtype)); },
           "Every binary tree on n ordered nodes (Catalan many), (C_n, n, n); n <= 10.")
      .def_trace_verbs<&trace, &trace_log_prob, &conditional_gumbel>(
          "The recursion's trace: every level's subtree roots, left to right, (*batch, n).");
}

}  // namespace structgrad::binary_tree
