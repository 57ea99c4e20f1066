#include "structgrad/experiments/semisupervised.h"

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "structgrad/testing/mnist_package.h"

namespace structgrad::experiments {
namespace {

// Noisy copies (5% of pixels flipped) of one random binary prototype per class: separable.
ImageDataset prototype_classes(int64_t pixels, int64_t train, int64_t test, uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor prototypes = (at::rand({kSemisupervisedClasses, pixels}, generator) > 0.5).to(at::kFloat);
  auto draw = [&](int64_t n) {
    at::Tensor labels = at::arange(n, at::kLong) % kSemisupervisedClasses;
    at::Tensor flips = (at::rand({n, pixels}, generator) < 0.05).to(at::kFloat);
    return std::make_pair((prototypes.index_select(0, labels) - flips).abs(), labels);
  };
  auto [train_images, train_labels] = draw(train);
  auto [test_images, test_labels] = draw(test);
  return {train_images, train_labels, test_images, test_labels};
}

template <typename F>
std::string value_error(F f) {
  try {
    f();
  } catch (const c10::ValueError& e) {
    return e.what_without_backtrace();
  }
  return "no ValueError";
}

SemisupervisedConfig small_semisupervised_config() {
  SemisupervisedConfig config;
  config.batch_size = 40;
  config.labelled_per_batch = 10;
  config.steps = 150;
  config.eval_every = 50;
  config.eval_images = 100;
  config.learning_rate = 3e-3;
  config.progress = false;
  return config;
}

TEST(Semisupervised, ModelShapes) {
  torch::manual_seed(0);
  SemisupervisedVae model(64);
  at::Tensor x = (at::rand({4, 64}) > 0.5).to(at::kFloat);
  SemisupervisedEncoding encoding = model->encode(x);
  EXPECT_EQ(encoding.logits.sizes(), at::IntArrayRef({4, kSemisupervisedClasses}));
  EXPECT_EQ(encoding.mean.sizes(), at::IntArrayRef({4, kSemisupervisedContinuous}));
  EXPECT_EQ(encoding.log_variance.sizes(), at::IntArrayRef({4, kSemisupervisedContinuous}));
  // The seed's widths: 784 -> 400 -> 200; 200 -> 100 -> 10; 200 -> 100 -> 66 -> 40; decoder 200 -> 400 -> pixels.
  auto widths = [](torch::nn::Sequential& net) {
    std::vector<int64_t> out;
    for (const auto& p : net->named_parameters())
      if (p.key().find("weight") != std::string::npos) out.push_back(p.value().size(0));
    return out;
  };
  EXPECT_EQ(widths(model->base), (std::vector<int64_t>{400, 200}));
  EXPECT_EQ(widths(model->discrete), (std::vector<int64_t>{100, 10}));
  EXPECT_EQ(widths(model->continuous), (std::vector<int64_t>{100, 66, 40}));
  EXPECT_EQ(widths(model->decoder), (std::vector<int64_t>{400, 64}));
  at::Tensor z_d = at::one_hot(at::randint(kSemisupervisedClasses, {3, 4}, at::kLong), kSemisupervisedClasses)
                       .to(at::kFloat);
  EXPECT_EQ(model->reconstruction_loss(z_d, encoding.mean, x).sizes(), at::IntArrayRef({3, 4}));
  EXPECT_NE(value_error([&] { model->encode(at::zeros({4, 63})); }).find("x must be"), std::string::npos);
}

TEST(Semisupervised, MixedLatentHoldsZcInTheChosenRowOnly) {
  at::Tensor z_c = at::randn({2, 5});
  at::Tensor z_d = at::one_hot(at::tensor({3, 0}, at::kLong), 4).to(at::kFloat).unsqueeze(0).expand({6, 2, 4});
  at::Tensor latent = mixed_latent(z_d, z_c);
  ASSERT_EQ(latent.sizes(), at::IntArrayRef({6, 2, 20}));
  at::Tensor matrix = latent.view({6, 2, 4, 5});
  for (int64_t b = 0; b < 2; ++b) {
    const int64_t row = b == 0 ? 3 : 0;
    for (int64_t k = 0; k < 4; ++k) {
      at::Tensor expected = k == row ? z_c[b] : at::zeros({5});
      EXPECT_TRUE(at::equal(matrix.select(1, b).select(1, k), expected.expand({6, 5}))) << b << ' ' << k;
    }
  }
  EXPECT_NE(value_error([&] { mixed_latent(z_d, at::randn({3, 5})); }).find("z_d must be"), std::string::npos);
}

TEST(Semisupervised, GaussianKlIsZeroAtThePriorAndClosedFormElsewhere) {
  EXPECT_NEAR(gaussian_kl_to_standard(at::zeros({3, 20}), at::zeros({3, 20})).abs().max().item<double>(), 0, 1e-7);
  at::Tensor kl = gaussian_kl_to_standard(at::tensor({1.0, -2.0}, at::kDouble), at::tensor({std::log(4.0), 0.0}, at::kDouble));
  EXPECT_NEAR(kl.item<double>(), 0.5 * (1 + 4 - 1 - std::log(4.0)) + 0.5 * 4, 1e-12);
}

TEST(Semisupervised, LabelledSubsetIsClassBalancedSeededAndChecked) {
  at::Tensor labels = at::arange(1000, at::kLong) % 10;
  at::Generator a = at::make_generator<at::CPUGeneratorImpl>(7), b = at::make_generator<at::CPUGeneratorImpl>(7);
  at::Tensor subset = labelled_subset(labels, 50, a);
  EXPECT_TRUE(at::equal(subset, labelled_subset(labels, 50, b)));
  EXPECT_EQ(std::get<0>(at::_unique(subset)).numel(), 50);
  EXPECT_TRUE(at::equal(at::bincount(labels.index_select(0, subset)), at::full({10}, 5, at::kLong)));
  EXPECT_NE(value_error([&] { labelled_subset(labels, 2000, a); }).find("labels count (2000) exceeds the training set"),
            std::string::npos);
  EXPECT_NE(value_error([&] { labelled_subset(labels, 55, a); }).find("multiple of 10"), std::string::npos);
}

TEST(Semisupervised, SeedTable2Figures) {
  EXPECT_DOUBLE_EQ(seed003_table2({"mnist", "direct", 100}).accuracy, 0.954);
  EXPECT_DOUBLE_EQ(seed003_table2({"fashion-mnist", "gsm", 100}).accuracy, 0.642);
  EXPECT_DOUBLE_EQ(seed003_table2({"mnist", "gsm", 1200}).bound, 90.37);
  EXPECT_TRUE(std::isnan(seed003_table2({"mnist", "direct", 70}).accuracy));
}

// The labels are what separates the classes' indices: without them the clusters could land on any
// permutation of the categories, with them the accuracy rises well above chance (0.1).
TEST(Semisupervised, LabelsTeachBothMethodsTheClasses) {
  const ImageDataset data = prototype_classes(64, 400, 100, 1);
  for (const std::string method : {"direct", "gsm"}) {
    SemisupervisedResult result = train_semisupervised({"mnist", method, 50}, data, small_semisupervised_config());
    ASSERT_EQ(result.accuracy_curve.size(), result.training.curve.size()) << method;
    EXPECT_GT(result.accuracy, 0.8) << method;
    EXPECT_TRUE(std::isfinite(result.bound)) << method;
    EXPECT_LT(result.bound, result.training.curve.front().test_loss + 1e-9) << method;
  }
}

TEST(Semisupervised, BadInputIsNamed) {
  const ImageDataset data = prototype_classes(16, 100, 20, 2);
  const SemisupervisedConfig config = small_semisupervised_config();
  EXPECT_NE(value_error([&] { train_semisupervised({"mnist", "direct", 100}, data, config); })
                .find("labels (100) exceeds the training set"),
            std::string::npos);
  EXPECT_NE(value_error([&] { train_semisupervised({"mnist", "reinforce", 10}, data, config); })
                .find("method must be \"direct\" or \"gsm\", got \"reinforce\""),
            std::string::npos);
  EXPECT_NE(value_error([&] { train_semisupervised({"cifar", "direct", 10}, data, config); }).find("dataset must be"),
            std::string::npos);
  SemisupervisedConfig bad = config;
  bad.methods = {"direct", "nope"};
  EXPECT_NE(value_error([&] { run_semisupervised(bad); }).find("method must be"), std::string::npos);
  bad = config;
  bad.label_counts = {15};
  EXPECT_NE(value_error([&] { run_semisupervised(bad); }).find("labels must be positive multiples of 10"),
            std::string::npos);
  bad = config;
  bad.labelled_per_batch = config.batch_size;
  EXPECT_NE(value_error([&] { train_semisupervised({"mnist", "gsm", 10}, data, bad); }).find("labelled_per_batch"),
            std::string::npos);
}

TEST(Semisupervised, SmokeRunWritesTableCsvAndJson) {
  const ImageDataset digits = prototype_classes(784, 150, 10, 3);
  const auto root = testing::write_mnist_package("semisupervised_smoke_test", digits.train_images, digits.train_labels);
  SemisupervisedConfig config = small_semisupervised_config();
  config.datasets = {"mnist"};
  config.label_counts = {20};
  config.batch_size = 20;
  config.labelled_per_batch = 5;
  config.steps = 4;
  config.eval_every = 2;
  config.mnist_directory = root.string();
  config.output_directory = (root / "results").string();
  std::vector<SemisupervisedResult> results = run_semisupervised(config);
  ASSERT_EQ(results.size(), 2u);
  std::ifstream csv(root / "results" / "accuracy.csv");
  std::stringstream text;
  text << csv.rdbuf();
  const std::string table = text.str();
  EXPECT_EQ(table.rfind("label,dataset,method,labels,accuracy,bound,seed_accuracy,seed_bound,train_seconds\n", 0), 0u);
  EXPECT_NE(table.find("mnist direct,mnist,direct,20,"), std::string::npos);
  EXPECT_NE(table.find("mnist gsm,mnist,gsm,20,"), std::string::npos);
  const nlohmann::json json = nlohmann::json::parse(std::ifstream(root / "results" / "summary.json"));
  ASSERT_EQ(json["runs"].size(), 2u);
  for (const auto& run : json["runs"]) {
    EXPECT_GE(run["accuracy"].get<double>(), 0);
    EXPECT_LE(run["accuracy"].get<double>(), 1);
    EXPECT_TRUE(std::isfinite(run["bound"].get<double>()));
    EXPECT_EQ(run["accuracy_curve"].size(), 2u);
    EXPECT_TRUE(run["seed_accuracy"].is_null());  // Table 2 has no 20-label row
  }
  EXPECT_TRUE(std::filesystem::exists(root / "results" / "curves.csv"));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace structgrad::experiments
