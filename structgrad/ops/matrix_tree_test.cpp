#include "structgrad/ops/matrix_tree.h"

#include <gtest/gtest.h>

#include "structgrad/testing/testing.h"

namespace structgrad::ops {
namespace {

using testing::seeded;

// Every spanning arborescence rooted at `root` as a parent array, by filtering all parent
// functions for acyclicity: the obviously-correct reference.
std::vector<std::vector<int64_t>> all_arborescences(int64_t n, int64_t root) {
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> parent(n, 0);
  const int64_t total = int64_t(std::pow(n, n));
  for (int64_t code = 0; code < total; ++code) {
    int64_t c = code;
    bool valid = true;
    for (int64_t v = 0; v < n; ++v, c /= n) {
      parent[v] = c % n;
      if (v == root ? parent[v] != 0 : parent[v] == v) valid = false;
    }
    if (!valid) continue;
    parent[root] = -1;
    for (int64_t v = 0; v < n && valid; ++v) {
      int64_t u = v;
      for (int64_t steps = 0; u != root && steps <= n; ++steps) u = parent[u];
      valid = u == root;
    }
    if (valid) out.push_back(parent);
  }
  return out;
}

// The Gibbs distribution by enumeration: every tree's indicator (T, n, n), log Z (*batch) and
// each tree's probability (T, *batch). Undirected trees are the arborescences rooted at 0 with
// their edges read without direction.
struct Gibbs {
  at::Tensor indicators, log_z, probabilities;
};

Gibbs enumerate_gibbs(const at::Tensor& theta, bool directed, int64_t root) {
  const int64_t n = theta.size(-1);
  auto trees = all_arborescences(n, directed ? root : 0);
  at::Tensor indicators = at::zeros({int64_t(trees.size()), n, n}, at::kDouble);
  for (size_t t = 0; t < trees.size(); ++t)
    for (int64_t v = 0; v < n; ++v) {
      if (trees[t][v] < 0) continue;
      indicators[t][trees[t][v]][v] = 1;
      if (!directed) indicators[t][v][trees[t][v]] = 1;
    }
  // An undirected tree's score counts each edge once.
  at::Tensor scores = (indicators.unsqueeze(1) * theta.nan_to_num(0, 0, -1e300).unsqueeze(0)).sum({-1, -2}) /
                      (directed ? 1.0 : 2.0);
  scores =
      at::where(scores < -1e290, at::full_like(scores, -INFINITY), scores);  // trees using an absent edge
  at::Tensor log_z = at::logsumexp(scores, 0);
  return {indicators, log_z, (scores - log_z).exp()};
}

// log Z and marginals by enumeration.
std::pair<at::Tensor, at::Tensor> brute_force(const at::Tensor& theta, bool directed, int64_t root) {
  Gibbs gibbs = enumerate_gibbs(theta, directed, root);
  return {gibbs.log_z,
          (gibbs.probabilities.unsqueeze(-1).unsqueeze(-1) * gibbs.indicators.unsqueeze(1)).sum(0)};
}

// The textbook matrix-tree theorem as composed ops, differentiable by plain autograd: log det of
// the Laplacian's root minor by slogdet (LU) on max-shifted weights, accurate at moderate
// logits. Undirected: L = diag(row sums) - W on the edge weights (theta + theta^T) / 2, the
// library's convention. Directed: L[j, j] = sum_i w[i, j] (in-weights), L[i, j] = -w[i, j].
at::Tensor slogdet_log_partition(const at::Tensor& theta, bool directed, int64_t root) {
  const int64_t n = theta.size(-1);
  at::Tensor t = directed ? theta : (theta + theta.transpose(-1, -2)) / 2;
  at::Tensor shift = t.detach().amax({-1, -2}, true);
  at::Tensor w = (t - shift).exp() * (1 - at::eye(n, t.options()));
  at::Tensor laplacian = at::diag_embed(w.sum(directed ? -2 : -1)) - w;
  std::vector<int64_t> kept;
  for (int64_t v = 0; v < n; ++v)
    if (v != root) kept.push_back(v);
  at::Tensor keep = at::tensor(kept, at::kLong);
  at::Tensor minor = laplacian.index_select(-2, keep).index_select(-1, keep);
  return std::get<1>(at::linalg_slogdet(minor)) + shift.squeeze(-1).squeeze(-1) * double(n - 1);
}

at::Tensor random_theta(int64_t batch, int64_t n, double scale, bool symmetric, uint64_t seed) {
  at::Tensor theta = at::randn({batch, n, n}, seeded(seed), at::kDouble) * scale;
  return symmetric ? (theta + theta.transpose(-1, -2)) / 2 : theta;
}

TEST(MatrixTree, MatchesEnumerationAtSpreadLogits) {
  for (bool directed : {true, false})
    for (double scale : {1.0, 20.0, 50.0, 1e3})
      for (int64_t n : {2, 3, 5}) {
        const int64_t root = directed ? n - 1 : 0;
        at::Tensor theta = random_theta(6, n, scale, !directed, uint64_t(n * 100 + scale));
        auto [log_z, mu] = brute_force(theta, directed, root);
        at::Tensor ours = matrix_tree_log_partition(theta, directed, root);
        EXPECT_TRUE(at::allclose(ours, log_z, 1e-9, 1e-9))
            << "directed " << directed << " scale " << scale << " n " << n << "\n"
            << ours << log_z;
        EXPECT_TRUE(at::allclose(matrix_tree_marginals(theta, directed, root), mu, 0, 1e-8))
            << "directed " << directed << " scale " << scale << " n " << n;
      }
}

TEST(MatrixTree, ForwardAndMarginalsBackwardMatchAutogradThroughSlogdet) {
  // The reference's marginals are autograd's gradient of its log det (twice for undirected
  // edges, whose gradient splits over theta[i, j] and theta[j, i]); its marginals' backward is
  // a second autograd pass through that gradient.
  for (bool directed : {true, false})
    for (int64_t n : {6, 9})
      for (int64_t root : directed ? std::vector<int64_t>{0, 2, n - 1} : std::vector<int64_t>{0}) {
        at::Tensor theta = random_theta(3, n, 1.0, !directed, uint64_t(300 + n * 10 + root)).requires_grad_(true);
        at::Tensor g = at::randn({3, n, n}, seeded(uint64_t(400 + n * 10 + root)), at::kDouble);
        at::Tensor reference_log_z = slogdet_log_partition(theta, directed, root);
        at::Tensor reference_mu =
            torch::autograd::grad({reference_log_z.sum()}, {theta}, {}, true, /*create_graph=*/true)[0] *
            (directed ? 1.0 : 2.0);
        at::Tensor reference_vjp = torch::autograd::grad({(reference_mu * g).sum()}, {theta})[0];

        at::Tensor mu = matrix_tree_marginals(theta, directed, root);
        at::Tensor vjp = torch::autograd::grad({(mu * g).sum()}, {theta})[0];
        const std::string where = c10::str("directed ", directed, " n ", n, " root ", root);
        EXPECT_TRUE(at::allclose(matrix_tree_log_partition(theta.detach(), directed, root), reference_log_z.detach(),
                                 1e-9, 1e-9))
            << where;
        EXPECT_TRUE(at::allclose(mu.detach(), reference_mu.detach(), 0, 1e-9))
            << where << " max error " << (mu - reference_mu).abs().max().item<double>();
        EXPECT_TRUE(at::allclose(vjp, reference_vjp, 0, 1e-9))
            << where << " max error " << (vjp - reference_vjp).abs().max().item<double>();
      }
}

TEST(MatrixTree, MarginalsBackwardIsTheEnumeratedCovarianceAtSpreadLogits) {
  // The Hessian of log Z in the edge log-weights is the covariance of the edge indicators, so
  // the marginals' backward at g is Cov(x) g; an undirected edge's log-weight is
  // (theta[i, j] + theta[j, i]) / 2, which halves it. gradcheck cannot run at these scales.
  const int64_t n = 5;
  for (bool directed : {true, false})
    for (double scale : {1.0, 20.0, 50.0}) {
      const int64_t root = directed ? 3 : 0;
      at::Tensor theta = random_theta(4, n, scale, !directed, uint64_t(500 + scale)).requires_grad_(true);
      at::Tensor g = at::randn({4, n, n}, seeded(uint64_t(600 + scale)), at::kDouble);
      Gibbs gibbs = enumerate_gibbs(theta.detach(), directed, root);
      at::Tensor x = gibbs.indicators.unsqueeze(1);                          // (T, 1, n, n)
      at::Tensor p = gibbs.probabilities.unsqueeze(-1).unsqueeze(-1);        // (T, B, 1, 1)
      at::Tensor centered = x - (p * x).sum(0);                              // (T, B, n, n)
      at::Tensor along_g = (centered * g).sum({-1, -2}, true);               // (T, B, 1, 1)
      at::Tensor expected = (p * centered * along_g).sum(0) / (directed ? 1.0 : 2.0);

      at::Tensor vjp = torch::autograd::grad({(matrix_tree_marginals(theta, directed, root) * g).sum()}, {theta})[0];
      // At scale 50 some instances' covariances are below 1e-6, so the tolerance must be tighter.
      EXPECT_TRUE(at::allclose(vjp, expected, 0, 1e-10))
          << "directed " << directed << " scale " << scale << " max error "
          << (vjp - expected).abs().max().item<double>();
    }
}

TEST(MatrixTree, AbsentEdgesAndDisconnectedGraphs) {
  at::Tensor theta = random_theta(2, 5, 2.0, true, 7);
  theta.index_put_({at::indexing::Slice(), 0, 1}, -INFINITY);
  theta.index_put_({at::indexing::Slice(), 1, 0}, -INFINITY);
  auto [log_z, mu] = brute_force(theta, false, 0);
  EXPECT_TRUE(at::allclose(matrix_tree_log_partition(theta, false), log_z, 1e-10, 1e-10));
  EXPECT_TRUE(at::allclose(matrix_tree_marginals(theta, false), mu, 0, 1e-10));

  at::Tensor split = at::full({1, 4, 4}, -INFINITY, at::kDouble);
  split.index_put_({0, 0, 1}, 0.0);
  split.index_put_({0, 1, 0}, 0.0);
  split.index_put_({0, 2, 3}, 0.0);
  split.index_put_({0, 3, 2}, 0.0);
  EXPECT_THROW(matrix_tree_log_partition(split, false), c10::ValueError);
  EXPECT_THROW(matrix_tree_marginals(split, true, 0), c10::ValueError);
}

TEST(MatrixTree, GradcheckFloat64) {
  // Scale 1 runs the elimination in linear space, scale 100 in log space.
  for (double scale : {1.0, 100.0})
    for (bool directed : {true, false}) {
      at::Tensor theta = random_theta(2, 4, scale, !directed, 11);
      EXPECT_LT(testing::gradcheck_error(
                    [&](const at::Tensor& t) { return matrix_tree_marginals(t, directed, 1); }, theta),
                1e-6)
          << "directed " << directed << " scale " << scale;
      EXPECT_LT(testing::gradcheck_error(
                    [&](const at::Tensor& t) { return matrix_tree_log_partition(t, directed, 1); }, theta),
                1e-6)
          << "directed " << directed << " scale " << scale;
    }
}

TEST(MatrixTree, LinearSpaceBackwardOnLargerGraphsWithAbsentEdgesAndAnyRoot) {
  for (bool directed : {true, false})
    for (int64_t root : {0, 3, 6}) {
      at::Tensor theta = random_theta(2, 7, 1.0, !directed, uint64_t(20 + root));
      for (auto [i, j] : {std::pair<int64_t, int64_t>{0, 2}, {3, 5}, {6, 1}}) {
        theta.index_put_({at::indexing::Slice(), i, j}, -INFINITY);
        if (!directed) theta.index_put_({at::indexing::Slice(), j, i}, -INFINITY);
      }
      EXPECT_LT(testing::gradcheck_error([&](const at::Tensor& t) { return matrix_tree_marginals(t, directed, root); },
                                         theta),
                1e-6)
          << "directed " << directed << " root " << root;
    }
}

TEST(MatrixTree, LogSpaceGradientsAreFiniteAtHugeLogits) {
  for (bool directed : {true, false}) {
    at::Tensor theta = random_theta(3, 12, 1e3, !directed, 12).requires_grad_(true);
    at::Tensor mu = matrix_tree_marginals(theta, directed, 0);
    (mu * at::randn({3, 12, 12}, seeded(13), at::kDouble)).sum().backward();
    EXPECT_TRUE(at::isfinite(mu).all().item<bool>());
    EXPECT_TRUE(at::isfinite(theta.grad()).all().item<bool>());
    // Every vertex but the root has one parent: the marginals of its incoming edges sum to 1.
    at::Tensor in_degree = (directed ? mu : mu / 2).sum(-2);
    if (directed)
      EXPECT_TRUE(at::allclose(in_degree.narrow(-1, 1, 11), at::ones({3, 11}, at::kDouble), 0, 1e-9));
    else
      EXPECT_TRUE(at::allclose(mu.sum({-1, -2}) / 2, at::full({3}, 11.0, at::kDouble), 0, 1e-9));
  }
}

TEST(MatrixTree, BadInput) {
  EXPECT_THROW(matrix_tree_log_partition(at::zeros({2, 3, 4}, at::kDouble), true), c10::ValueError);
  EXPECT_THROW(matrix_tree_log_partition(at::zeros({3, 3}, at::kDouble), true, 3), c10::ValueError);
  EXPECT_THROW(matrix_tree_log_partition(at::full({3, 3}, NAN, at::kDouble), true), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::ops
