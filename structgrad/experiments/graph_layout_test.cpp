#include "structgrad/experiments/graph_layout.h"

#include <gtest/gtest.h>

#include <numeric>

namespace structgrad::experiments {
namespace {

// Three iterations on the tree 0-1, 1-2, 1-3, 3-4 from fixed starts, against networkx 2.8.8:
// spring_layout(G, pos=pos, iterations=1, threshold=1e-10, center=(0, 0)) called three times.
TEST(SpringLayoutIteration, MatchesNetworkx) {
  const int64_t n = 5;
  std::vector<uint8_t> adjacency(n * n, 0);
  for (auto [i, j] : std::vector<std::pair<int, int>>{{0, 1}, {1, 2}, {1, 3}, {3, 4}})
    adjacency[i * n + j] = adjacency[j * n + i] = 1;
  std::vector<double> xy = {0.3, -1.2, 1.5, 0.4, -0.7, 0.9, 0.2, 0.1, 2.2, -0.5};
  const std::vector<std::vector<double>> networkx = {
      {-0.22008896154525884, -0.79214327004712082, 0.40682598982046986, 0.30326221166301554, -0.97490053835192703,
       0.73704868198972606, -0.21183648992328424, 0.07745697589914774, 1, -0.32562459950476869},
      {-0.17064916617321446, -0.79819687146575102, 0.23946791153820715, 0.29525496046989452, -1, 0.82781886687041317,
       -0.049200038155220678, 0.027251314015950424, 0.98038129279022801, -0.352128269890507},
      {-0.13618178071637849, -0.75992171126798913, 0.039431118794142253, 0.29168436470590992, -1,
       0.89412294285860783, 0.15119414686826338, -0.065885222785800876, 0.94555651505397298, -0.36000037351072767}};
  for (const auto& expected : networkx) {
    spring_layout_iteration(xy, adjacency, n);
    for (int64_t v = 0; v < 2 * n; ++v) EXPECT_NEAR(xy[v], expected[v], 1e-12) << v;
  }
}

TEST(SpringLayoutIteration, RefusesMismatchedSizes) {
  std::vector<double> xy(6);
  EXPECT_THROW(spring_layout_iteration(xy, std::vector<uint8_t>(4), 3), c10::ValueError);
  EXPECT_THROW(spring_layout_iteration(xy, std::vector<uint8_t>(9), 1), c10::ValueError);
}

// Whether a symmetric 0/1 (n, n) adjacency is a spanning tree: n - 1 edges, all vertices reached.
bool is_spanning_tree(const at::Tensor& adjacency) {
  const int64_t n = adjacency.size(0);
  if (!at::equal(adjacency, adjacency.t()) || adjacency.diagonal().sum().item<float>() != 0) return false;
  if (adjacency.sum().item<float>() != 2 * (n - 1)) return false;
  std::vector<bool> seen(n, false);
  std::vector<int64_t> stack = {0};
  seen[0] = true;
  while (!stack.empty()) {
    const int64_t v = stack.back();
    stack.pop_back();
    for (int64_t u = 0; u < n; ++u)
      if (adjacency[v][u].item<float>() == 1 && !seen[u]) {
        seen[u] = true;
        stack.push_back(u);
      }
  }
  return std::all_of(seen.begin(), seen.end(), [](bool s) { return s; });
}

TEST(GraphLayoutData, IsSeededTreesAndRescaledFrames) {
  const GraphLayoutData a = graph_layout_data(50, 10, 10, 3);
  const GraphLayoutData b = graph_layout_data(50, 10, 10, 3);
  EXPECT_TRUE(at::equal(a.positions, b.positions));
  EXPECT_TRUE(at::equal(a.edges, b.edges));
  EXPECT_FALSE(at::equal(a.edges, graph_layout_data(50, 10, 10, 4).edges));
  EXPECT_EQ(a.positions.sizes(), (std::vector<int64_t>{50, 10, 10, 2}));
  for (int64_t g = 0; g < 50; ++g) ASSERT_TRUE(is_spanning_tree(a.edges[g])) << g;
  // Every frame is centred with its largest coordinate at 1 in absolute value.
  EXPECT_LT(a.positions.mean(2).abs().max().item<float>(), 1e-5);
  at::Tensor largest = std::get<0>(a.positions.abs().flatten(2).max(-1));
  EXPECT_TRUE(at::allclose(largest, at::ones_like(largest)));
  // Frames move: the layout changes from one frame to the next.
  EXPECT_GT((a.positions.narrow(1, 1, 9) - a.positions.narrow(1, 0, 9)).abs().mean().item<float>(), 1e-3);
}

// The layout carries the tree: at the last frame, tree neighbours sit closer than other pairs.
TEST(GraphLayoutData, NeighboursEndCloser) {
  const GraphLayoutData data = graph_layout_data(200, 10, 20, 5);
  at::Tensor last = data.positions.select(1, 19);  // (N, n, 2)
  at::Tensor distance = at::cdist(last, last);
  at::Tensor off_diagonal = 1 - at::eye(10).unsqueeze(0);
  const double neighbours = (distance * data.edges).sum().item<double>() / data.edges.sum().item<double>();
  const double others =
      (distance * (off_diagonal - data.edges)).sum().item<double>() / (off_diagonal - data.edges).sum().item<double>();
  EXPECT_LT(neighbours, 0.6 * others);
}

TEST(GraphLayoutData, RefusesBadSettings) {
  EXPECT_THROW(graph_layout_data(0, 10, 10, 0), c10::ValueError);
  EXPECT_THROW(graph_layout_data(5, 1, 10, 0), c10::ValueError);
  EXPECT_THROW(graph_layout_data(5, 10, 1, 0), c10::ValueError);
}

TEST(GraphLayoutMethods, CoverBothSeedTables) {
  std::vector<std::string> labels;
  for (const auto& m : graph_layout_methods()) labels.push_back(m.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"bernoulli_binary_entropy", "topk_exponential_family",
                                              "spanning_tree_exponential_family", "spanning_tree_t_reinforce_plus",
                                              "spanning_tree_relax"}));
}

}  // namespace
}  // namespace structgrad::experiments
