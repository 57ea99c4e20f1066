#include "structgrad/experiments/listops.h"

#include <gtest/gtest.h>

#include <set>

#include "structgrad/structures/graph.h"

namespace structgrad::experiments {
namespace {

TEST(ListOpsValue, EvaluatesPrefixExpressions) {
  // [MIN 3 [MED 3 5 4] 2] = min(3, 4, 2).
  EXPECT_EQ(listops_value({kListOpsMin, 3, kListOpsMed, 3, 5, 4, kListOpsClose, 2, kListOpsClose}), 2);
  // MED of an even count: the two middle values' mean rounded down, as ListOps' int(median).
  EXPECT_EQ(listops_value({kListOpsMed, 2, 1, kListOpsClose}), 1);
  EXPECT_EQ(listops_value({kListOpsMed, 9, 0, 4, 7, kListOpsClose}), 5);
  EXPECT_EQ(listops_value({kListOpsFirst, kListOpsMax, 1, 8, kListOpsClose, 0, kListOpsClose}), 8);
  EXPECT_EQ(listops_value({kListOpsLast, 6, kListOpsMin, 7, 9, kListOpsClose, kListOpsClose}), 7);
  EXPECT_THROW(listops_value({3, kListOpsClose}), c10::ValueError);
  EXPECT_THROW(listops_value({kListOpsMin, 3, 4}), c10::ValueError);
  EXPECT_THROW(listops_value({kListOpsMin, kListOpsClose}), c10::ValueError);
  EXPECT_THROW(listops_value({kListOpsMin, 1, kListOpsClose, 2}), c10::ValueError);
}

TEST(ListOpsData, IsSeededAndEveryParseIsTheExpressionsArborescence) {
  const ListOpsDataConfig config;
  const ListOpsData a = listops_data(500, 7, config);
  EXPECT_TRUE(at::equal(a.tokens, listops_data(500, 7, config).tokens));
  EXPECT_FALSE(at::equal(a.tokens, listops_data(500, 8, config).tokens));
  std::set<int64_t> values, depths, lengths;
  for (int64_t i = 0; i < 500; ++i) {
    const int64_t n = a.lengths[i].item<int64_t>();
    ASSERT_LE(n, config.max_length);
    const int64_t* t = a.tokens[i].data_ptr<int64_t>();
    const int64_t* p = a.parents[i].data_ptr<int64_t>();
    const std::vector<int64_t> tokens(t, t + n);
    EXPECT_EQ(listops_value(tokens), a.values[i].item<int64_t>()) << "expression " << i;
    EXPECT_TRUE(std::all_of(t + n, t + config.max_length, [](int64_t v) { return v == -1; }));
    // The parse: each token's parent is the operator whose brackets enclose it most closely.
    std::vector<int64_t> open;
    int64_t depth = 0;
    for (int64_t j = 0; j < n; ++j) {
      EXPECT_EQ(p[j], open.empty() ? -1 : open.back()) << "expression " << i << " token " << j;
      if (t[j] >= kListOpsMin && t[j] <= kListOpsLast) open.push_back(j);
      depth = std::max(depth, int64_t(open.size()));
      if (t[j] == kListOpsClose) open.pop_back();
    }
    EXPECT_EQ(depth, a.depths[i].item<int64_t>());
    ASSERT_GE(depth, config.min_depth);
    ASSERT_LE(depth, config.max_depth);
    at::Tensor parse = at::zeros({n, n}, at::kDouble);
    for (int64_t j = 1; j < n; ++j) parse[p[j]][j] = 1;
    EXPECT_TRUE(graph::arborescences_among(parse, 0).item<bool>());
    values.insert(a.values[i].item<int64_t>());
    depths.insert(depth);
    lengths.insert(n);
  }
  EXPECT_EQ(values.size(), 10u);
  EXPECT_EQ(depths, (std::set<int64_t>{3, 4, 5}));
  EXPECT_GT(lengths.size(), 20u);
}

TEST(ListOpsData, RefusesBadSettings) {
  ListOpsDataConfig impossible;
  impossible.max_length = 8;  // depth 3 needs at least 10 tokens
  EXPECT_THROW(listops_data(1, 0, impossible), c10::ValueError);
  ListOpsDataConfig inverted;
  inverted.min_depth = 4;
  inverted.max_depth = 3;
  EXPECT_THROW(listops_data(1, 0, inverted), c10::ValueError);
  EXPECT_THROW(listops_data(0, 0), c10::ValueError);
}

TEST(ListOpsMethods, CoverBothSeedTables) {
  std::set<std::string> labels;
  for (const auto& m : listops_methods()) labels.insert(m.label);
  EXPECT_EQ(labels, (std::set<std::string>{"arborescence_exponential_family", "arborescence_exponential_family_gaussian",
                                           "arborescence_exponential_family_negative_exponential",
                                           "arborescence_e_reinforce_plus", "arborescence_t_reinforce_plus",
                                           "arborescence_relax", "ground_truth"}));
}

}  // namespace
}  // namespace structgrad::experiments
