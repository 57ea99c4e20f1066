#include "structgrad/experiments/parentheses.h"

#include <gtest/gtest.h>

#include <map>

#include "structgrad/structures/binary_tree.h"
#include "structgrad/testing/testing.h"

namespace structgrad::experiments {
namespace {

std::vector<int64_t> sequence(const ParenthesesData& data, int64_t i) {
  const int64_t* t = data.tokens[i].data_ptr<int64_t>();
  return {t, t + data.lengths[i].item<int64_t>()};
}

TEST(Parentheses, IsBalanced) {
  EXPECT_TRUE(is_balanced({0, 2, 3, 1, 4, 5}, 3));
  EXPECT_FALSE(is_balanced({0, 3}, 2));        // closes another type
  EXPECT_FALSE(is_balanced({0, 2, 1, 3}, 2));  // crosses
  EXPECT_FALSE(is_balanced({0}, 1));
  EXPECT_FALSE(is_balanced({1, 0}, 1));
  EXPECT_FALSE(is_balanced({}, 1));
  EXPECT_FALSE(is_balanced({4, 5}, 2));  // a type beyond `types`
}

TEST(Parentheses, DataIsSeededBalancedAndUniformOverTheBracketShapes) {
  const ParenthesesData a = parentheses_data(20000, 3, 3, 5);
  EXPECT_TRUE(at::equal(a.tokens, parentheses_data(20000, 3, 3, 5).tokens));
  EXPECT_FALSE(at::equal(a.tokens, parentheses_data(20000, 3, 3, 6).tokens));
  std::map<std::string, int64_t> shapes;  // the 5 Dyck words of 3 pairs, types dropped
  for (int64_t i = 0; i < 20000; ++i) {
    const auto s = sequence(a, i);
    ASSERT_TRUE(is_balanced(s, 3)) << "sequence " << i;
    ASSERT_LE(s.size(), 6u);
    if (s.size() != 6) continue;
    std::string shape;
    for (int64_t token : s) shape += token % 2 == 0 ? '(' : ')';
    shapes[shape] += 1;
  }
  ASSERT_EQ(shapes.size(), 5u);
  at::Tensor counts = at::empty({5}, at::kLong);
  int64_t k = 0;
  for (const auto& [shape, count] : shapes) counts[k++] = count;
  EXPECT_LT(testing::chi_square_statistic(counts, at::full({5}, 0.2, at::kDouble)), 18.47);  // df 4, 1e-3
}

TEST(Parentheses, OrdersAreBinaryTreesAndTheirPreorders) {
  // ( [ ] ) { } with types 0, 1, 2; <end> = 6.
  const at::Tensor tokens = at::tensor({0, 2, 3, 1, 4, 5}, at::kLong).view({1, 6});
  const int64_t end = 6;
  const at::Tensor smart = smart_order(tokens);
  // Each pair opened, then closed, then filled: 0 -> 3, 3 -> 1 (inside), 3 -> 4 (the rest).
  auto targets = [&](const at::Tensor& tree) {
    const at::Tensor t = preorder_targets(tokens, tree.unsqueeze(0), end).flatten();
    return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
  };
  EXPECT_EQ(targets(smart), (std::vector<int64_t>{0, end, 1, 2, end, 3, end, end, 4, end, 5, end, end}));
  EXPECT_EQ(targets(left_to_right_order(1, 6)),
            (std::vector<int64_t>{0, end, 2, end, 3, end, 1, end, 4, end, 5, end, end}));
  // Both are structures of the binary_tree family (finite log-probability under any scores).
  const at::Tensor theta = at::randn({1, 6}, at::kDouble);
  EXPECT_TRUE(at::isfinite(binary_tree::log_prob(theta, smart)).all().item<bool>());
  EXPECT_TRUE(at::isfinite(binary_tree::log_prob(theta, left_to_right_order(1, 6))).all().item<bool>());
  // The smart order of every generated sequence is a tree over its positions.
  const ParenthesesData data = parentheses_data(200, 4, 6, 1);
  for (int64_t i = 0; i < 200; ++i) {
    const auto s = sequence(data, i);
    const at::Tensor x = at::tensor(s, at::kLong).view({1, -1});
    EXPECT_NO_THROW(preorder_targets(x, smart_order(x).unsqueeze(0), 8)) << "sequence " << i;
  }
  EXPECT_THROW(smart_order(at::tensor({0, 3}, at::kLong).view({1, 2})), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::experiments
