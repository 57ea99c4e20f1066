#include "structgrad/ops/matrix_tree.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "structgrad/core/check.h"
#include "structgrad/solvers/matrix_tree.h"

namespace structgrad::ops {
namespace {

[[noreturn]] void unreachable(bool directed, int64_t root) {
  if (directed)
    TORCH_CHECK_VALUE(false, "matrix_tree: some vertex cannot be reached from the root ", root,
                      " through edges with finite weight: no spanning arborescence exists");
  TORCH_CHECK_VALUE(false, "matrix_tree: the graph is disconnected (no spanning tree exists)");
}

// Runs the elimination over the batch: log Z (*batch), the marginals when asked, and with
// `keep_state` the per-instance state the marginals' backward reads, (instances, state size).
struct Elimination {
  at::Tensor theta, log_z, marginals, state;  // theta: the input in float64, contiguous
};
Elimination run(const at::Tensor& theta, bool directed, int64_t root, bool want_marginals, bool keep_state) {
  at::Tensor t = theta.to(at::kDouble).contiguous();
  const int64_t n = t.size(-1), instances = t.numel() / (n * n), state_size = solvers::MatrixTreeWorkspace::state_size(n);
  at::Tensor log_z = at::empty({instances}, t.options());
  at::Tensor marginals = want_marginals ? at::empty_like(t) : at::Tensor();
  at::Tensor state = keep_state ? at::empty({instances, state_size}, t.options()) : at::Tensor();
  std::atomic<bool> failed{false};
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    solvers::MatrixTreeWorkspace work;
    std::vector<double> scratch(keep_state ? 0 : state_size);
    for (int64_t b = begin; b < end; ++b) {
      double* instance_state = keep_state ? state.data_ptr<double>() + b * state_size : scratch.data();
      double* out = want_marginals ? marginals.data_ptr<double>() + b * n * n : nullptr;
      if (!work.forward(instance_state, t.data_ptr<double>() + b * n * n, n, root, directed,
                            log_z.data_ptr<double>()[b], out))
        failed = true;
    }
  });
  if (failed) unreachable(directed, root);
  const auto batch = theta.sizes().slice(0, theta.dim() - 2);
  return {t, log_z.view(batch).to(theta.scalar_type()),
          want_marginals ? marginals.to(theta.scalar_type()) : marginals, state};
}

// d marginals . g: the Hessian of log Z applied to g, from the input and the state the forward
// left.
at::Tensor matrix_tree_marginals_backward(const at::Tensor& t, const at::Tensor& state, const at::Tensor& grad,
                                          bool directed, int64_t root) {
  at::Tensor g = grad.to(at::kDouble).expand_as(t).contiguous();
  const int64_t n = t.size(-1), instances = t.numel() / (n * n), state_size = solvers::MatrixTreeWorkspace::state_size(n);
  at::Tensor out = at::empty_like(t);
  at::parallel_for(0, instances, 1, [&](int64_t begin, int64_t end) {
    solvers::MatrixTreeWorkspace work;
    for (int64_t b = begin; b < end; ++b)
      work.backward(state.data_ptr<double>() + b * state_size, t.data_ptr<double>() + b * n * n, directed,
                        g.data_ptr<double>() + b * n * n, n, root, out.data_ptr<double>() + b * n * n);
  });
  return out.to(grad.scalar_type());
}

// What both autograd Functions keep for their backward: their input (for the marginals in
// float64), the kind of graph and, for the marginals, the elimination's state.
struct Graph {
  at::Tensor input;
  bool directed;
  int64_t root;
  at::Tensor state;

  void save(torch::autograd::AutogradContext* ctx) const {
    ctx->save_for_backward({input, state});
    ctx->saved_data["directed"] = directed;
    ctx->saved_data["root"] = root;
  }
  static Graph load(torch::autograd::AutogradContext* ctx) {
    const auto saved = ctx->get_saved_variables();
    return {saved[0], ctx->saved_data["directed"].toBool(), ctx->saved_data["root"].toInt(), saved[1]};
  }
};

bool may_need_gradient(const at::Tensor& theta) { return theta.requires_grad() && at::GradMode::is_enabled(); }

class MatrixTreeMarginalsFunction : public torch::autograd::Function<MatrixTreeMarginalsFunction> {
 public:
  // keep_state: whether a backward may follow (decided by the caller: in here gradients are off).
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& theta, bool directed,
                            int64_t root, bool keep_state) {
    Elimination result = run(theta, directed, root, true, keep_state);
    Graph{result.theta, directed, root, result.state}.save(ctx);
    return result.marginals;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const Graph g = Graph::load(ctx);
    return {matrix_tree_marginals_backward(g.input, g.state, grads[0], g.directed, g.root), at::Tensor(), at::Tensor(),
            at::Tensor()};
  }
};

class MatrixTreeLogPartitionFunction : public torch::autograd::Function<MatrixTreeLogPartitionFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& theta, bool directed,
                            int64_t root) {
    Graph{theta, directed, root, at::Tensor()}.save(ctx);
    return run(theta, directed, root, false, false).log_z;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const Graph g = Graph::load(ctx);
    at::Tensor mu = MatrixTreeMarginalsFunction::apply(g.input, g.directed, g.root, may_need_gradient(g.input));
    // An undirected edge's marginal is shared by its two entries.
    if (!g.directed) mu = mu / 2;
    return {grads[0].unsqueeze(-1).unsqueeze(-1) * mu, at::Tensor(), at::Tensor()};
  }
};

void check_matrix_tree_input(const char* function, const at::Tensor& theta, int64_t root) {
  check::logits_shape(function, "theta", theta, 2);
  TORCH_CHECK_VALUE(theta.size(-1) == theta.size(-2), function, ": theta must be square (*batch, n, n), got ",
                    check::shape_string(theta.sizes()));
  // One reduction finds both: max propagates NaN.
  const double largest = theta.max().item<double>();
  TORCH_CHECK_VALUE(!std::isnan(largest), function, ": theta contains NaN");
  TORCH_CHECK_VALUE(largest != INFINITY, function, ": theta contains +inf");
  check::in_range(function, "root", root, 0, theta.size(-1) - 1);
}

}  // namespace

at::Tensor matrix_tree_log_partition(const at::Tensor& theta, bool directed, int64_t root) {
  check_matrix_tree_input("matrix_tree_log_partition", theta, root);
  return MatrixTreeLogPartitionFunction::apply(theta, directed, root);
}

at::Tensor matrix_tree_marginals(const at::Tensor& theta, bool directed, int64_t root) {
  check_matrix_tree_input("matrix_tree_marginals", theta, root);
  return MatrixTreeMarginalsFunction::apply(theta, directed, root, may_need_gradient(theta));
}

}  // namespace structgrad::ops
