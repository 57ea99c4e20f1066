#include "structgrad/structures/ranking.h"

#include "structgrad/core/check.h"
#include "structgrad/solvers/enumerate.h"
#include "structgrad/solvers/recursive_algorithms.h"
#include "structgrad/structures/operators.h"
#include "structgrad/structures/recursive.h"
#include "structgrad/structures/support.h"

namespace structgrad::ranking {
namespace {

void check_theta(const char* function, const at::Tensor& theta) {
  check::logits(function, "theta", theta, 1);
  check::finite(function, "theta", theta);
}

// The first m ranks of n items.
recursive::KeySpace key_space(int64_t n, int64_t m) {
  recursive::KeySpace space;
  space.structure_shape = {n, n};
  space.factory = [n, m] { return std::make_unique<solvers::SelectionRecursion>(n, m, true); };
  return space;
}

// Insertion sort: every rank.
recursive::TraceVerbs verbs() {
  return {"ranking", check_theta, [](const at::Tensor& theta) { return key_space(theta.size(-1), theta.size(-1)); }};
}

// x[i, r] = 1 for item order[r]: (*, n) -> (*, n, n).
at::Tensor rank_matrix(const at::Tensor& order, int64_t n, const at::TensorOptions& options) {
  return at::one_hot(order, n).transpose(-1, -2).to(options.dtype());
}

}  // namespace

at::Tensor map(const at::Tensor& theta) {
  check_theta("ranking.map", theta);
  return rank_matrix(theta.argsort(-1, /*descending=*/true), theta.size(-1), theta.options());
}

at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator) {
  check_theta("ranking.sample", theta);
  return trace(theta, generator).structure;
}

at::Tensor order_log_prob(const at::Tensor& theta, const at::Tensor& order) {
  check_theta("ranking.order_log_prob", theta);
  const int64_t n = theta.size(-1);
  TORCH_CHECK_VALUE(order.dim() == theta.dim() && order.size(-1) <= n, "ranking.order_log_prob: order must be (*batch, m) ",
                    "with m <= n = ", n, ", got ", check::shape_string(order.sizes()));
  return recursive::trace_log_prob("ranking.order_log_prob", theta, order, key_space(n, order.size(-1)));
}

at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x) {
  check_theta("ranking.log_prob", theta);
  const int64_t n = theta.size(-1);
  TORCH_CHECK_VALUE(x.dim() >= 2 && x.size(-1) == n && x.size(-2) == n, "ranking.log_prob: x must end in (", n, ", ",
                    n, "), got ", check::shape_string(x.sizes()));
  check_indicators("ranking.log_prob", x);
  TORCH_CHECK_VALUE((x.sum(-1) == 1).all().item<bool>() && (x.sum(-2) == 1).all().item<bool>(),
                    "ranking.log_prob: x must be rank matrices (one 1 in every row and column)");
  at::Tensor order = x.argmax(-2);  // (*, *batch, n): the item at every rank
  std::vector<int64_t> expanded(order.sizes().begin(), order.sizes().end());
  return recursive::trace_log_prob("ranking.log_prob", theta.expand(expanded), order, key_space(n, n));
}

at::Tensor enumerate(int64_t n, const at::TensorOptions& options) {
  TORCH_CHECK_VALUE(n >= 1 && n <= 8, "ranking.enumerate: n must be in [1, 8], got ", n);
  auto orders = solvers::permutations(n);
  at::Tensor order = at::empty({int64_t(orders.size()), n}, at::kLong);
  for (size_t o = 0; o < orders.size(); ++o)
    for (int64_t r = 0; r < n; ++r) order[o][r] = orders[o][r];
  return rank_matrix(order, n, options);
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
  f.name = "ranking";
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
  FamilyOperators(library, "ranking")
      .def("map(Tensor theta) -> Tensor", &map, "The items by decreasing score.")
      .def("sample(Tensor theta, Generator? generator=None) -> Tensor", &sample,
           "Plackett-Luce: the items by decreasing theta + G.")
      .def("log_prob(Tensor theta, Tensor x) -> Tensor", &log_prob,
           "log P(sample == x) for rank matrices x (*, *batch, n, n): (*, *batch), differentiable.")
      .def("order_log_prob(Tensor theta, Tensor order) -> Tensor", &order_log_prob,
           "log P(the first m ranks are ``order``) for order (*batch, m) item indices, m <= n: the Plackett-Luce "
           "probability of a full or partial ordering. (*batch), differentiable.")
      .def("enumerate(int n, ScalarType? dtype=None) -> Tensor",
           [](int64_t n, c10::optional<at::ScalarType> dtype) { return enumerate(n, enumerate_options(dtype)); },
           "Every ordering of n items, (n!, n, n); n <= 8.")
      .def_trace_verbs<&trace, &trace_log_prob, &conditional_gumbel>(
          "Insertion sort as a recursion: the ranking and its trace, the items in rank order, (*batch, n).");
}

}  // namespace structgrad::ranking
