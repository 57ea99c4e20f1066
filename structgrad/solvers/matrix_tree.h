// The matrix-tree theorem's kernel on one dense instance, plain C++: log Z of the spanning trees
// (undirected) or arborescences out of `root` (directed) of an n x n log-weight matrix (-inf: no
// edge), the edge marginals d log Z / d theta, and the marginals' Hessian-vector product for
// their backward. ops/matrix_tree.h runs it over a batch, with autograd.
//
// The elimination runs in linear space on max-shifted weights when no path product can
// underflow, in log space otherwise (dual numbers for the backward there). The forward leaves
// in `state` (state_size(n) doubles) what the backward reads, so the backward repeats nothing.
#pragma once

#include <cstdint>
#include <memory>

namespace structgrad::solvers {

// One thread's scratch, reused across the instances it runs.
class MatrixTreeWorkspace {
 public:
  MatrixTreeWorkspace();
  ~MatrixTreeWorkspace();
  MatrixTreeWorkspace(const MatrixTreeWorkspace&) = delete;
  MatrixTreeWorkspace& operator=(const MatrixTreeWorkspace&) = delete;

  // Doubles of state one instance of n vertices needs.
  static int64_t state_size(int64_t n);

  // log Z and, when `marginals` is given, the n x n marginals of theta (row-major n x n). False
  // when some vertex cannot be reached from the root (undirected: the graph is disconnected).
  bool forward(double* state, const double* theta, int64_t n, int64_t root, bool directed, double& log_z,
               double* marginals);

  // out = the Hessian of log Z applied to g (n x n): the marginals' vector-Jacobian product, from
  // the input and the state its forward left.
  void backward(double* state, const double* input, bool directed, const double* g, int64_t n, int64_t root,
                double* out);

 private:
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace structgrad::solvers
