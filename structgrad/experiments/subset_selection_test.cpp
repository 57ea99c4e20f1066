#include "structgrad/experiments/subset_selection.h"

#include <gtest/gtest.h>

namespace structgrad::experiments {
namespace {

TEST(SubsetSelectionData, IsSeededAndWellFormed) {
  const SubsetDataConfig config;
  const SubsetSelectionData a = subset_selection_data(200, 7, config);
  const SubsetSelectionData b = subset_selection_data(200, 7, config);
  EXPECT_TRUE(at::equal(a.tokens, b.tokens));
  EXPECT_FALSE(at::equal(a.tokens, subset_selection_data(200, 8, config).tokens));
  EXPECT_EQ(a.tokens.sizes(), (std::vector<int64_t>{200, config.length}));
  EXPECT_GE(a.tokens.min().item<int64_t>(), 0);
  EXPECT_LT(a.tokens.max().item<int64_t>(), subset_selection_vocabulary(config));
  EXPECT_GE(a.rating.min().item<double>(), 0.0);
  EXPECT_LE(a.rating.max().item<double>(), 1.0);
  const int64_t first_topic = config.filler_words;
  for (int64_t i = 0; i < 200; ++i) {
    // The annotation is one run of 6 to 10 tokens that opens with a topic word of the first aspect.
    at::Tensor marked = a.annotation[i].nonzero().flatten();
    const int64_t start = marked[0].item<int64_t>(), size = marked.numel();
    ASSERT_GE(size, 6);
    ASSERT_LE(size, 10);
    EXPECT_EQ(marked[size - 1].item<int64_t>() - start, size - 1);
    const int64_t opening = a.tokens[i][start].item<int64_t>();
    EXPECT_GE(opening, first_topic);
    EXPECT_LT(opening, first_topic + config.topic_words);
  }
}

// The target can be read from the annotated sentence: the mean sentiment level there tracks the
// rating far better than over the whole review.
TEST(SubsetSelectionData, TheAnnotatedSentenceCarriesTheRating) {
  const SubsetDataConfig config;
  const SubsetSelectionData data = subset_selection_data(2000, 3, config);
  const int64_t first_sentiment = config.filler_words + 3 * config.topic_words;
  at::Tensor is_sentiment = (data.tokens >= first_sentiment).to(at::kDouble);
  at::Tensor level = ((data.tokens - first_sentiment).clamp_min(0) / config.sentiment_synonyms).to(at::kDouble);
  auto correlation = [&](const at::Tensor& mask) {
    at::Tensor mean_level = (level * is_sentiment * mask).sum(-1) / (is_sentiment * mask).sum(-1).clamp_min(1);
    at::Tensor x = mean_level - mean_level.mean(), y = data.rating - data.rating.mean();
    return ((x * y).sum() / (x.norm() * y.norm())).item<double>();
  };
  const double inside = correlation(data.annotation), everywhere = correlation(at::ones_like(data.annotation));
  EXPECT_GT(inside, 0.9);
  EXPECT_LT(everywhere, inside - 0.2);
}

TEST(SubsetSelectionData, RefusesBadSettings) {
  SubsetDataConfig short_reviews;
  short_reviews.length = 20;
  EXPECT_THROW(subset_selection_data(10, 0, short_reviews), c10::ValueError);
  EXPECT_THROW(subset_selection_data(0, 0), c10::ValueError);
}

TEST(SubsetSelectionMethods, CoverBothSeedTables) {
  std::vector<std::string> labels;
  for (const auto& m : subset_selection_methods()) labels.push_back(m.label);
  for (const char* expected : {"topk_euclidean", "topk_categorical_entropy", "topk_binary_entropy",
                               "topk_exponential_family", "correlated_topk", "topk_e_reinforce_plus",
                               "topk_t_reinforce_plus", "topk_relax", "topk_direct", "topk_gumbel_rao"})
    EXPECT_NE(std::find(labels.begin(), labels.end(), expected), labels.end()) << expected;
}

}  // namespace
}  // namespace structgrad::experiments
