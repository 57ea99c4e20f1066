#include "structgrad/experiments/igr_vae.h"

#include <gtest/gtest.h>

#include <cmath>

#include "structgrad/testing/prototype_images.h"

namespace structgrad::experiments {
namespace {

using testing::prototype_images;

TEST(IgrVae, EveryRelaxationTrainsWithFiniteDecreasingLoss) {
  const ImageDataset data = prototype_images();
  IgrVaeConfig config;
  config.variables = 2;
  config.categories = 4;
  config.batch_size = 32;
  config.steps = 80;
  config.eval_every = 4;
  config.eval_images = 64;
  config.learning_rate = 3e-3;
  config.prior_fit_steps = 20;
  config.progress = false;
  for (const auto& run : igr_vae_runs()) {
    IgrVaeResult result = train_igr_vae(run, data, config);
    ASSERT_EQ(result.training.curve.size(), 20u) << run.label;
    for (const auto& point : result.training.curve) EXPECT_TRUE(std::isfinite(point.test_loss)) << run.label;
    EXPECT_LT(result.training.final_test_loss, result.training.curve.front().test_loss) << run.label;
    EXPECT_GE(result.prior_total_variation, 0) << run.label;
    EXPECT_GE(result.near_vertex_fraction, 0) << run.label;
    EXPECT_LE(result.near_vertex_fraction, 1) << run.label;
    EXPECT_GE(result.vanishing_gradient_share, 0) << run.label;
    EXPECT_LT(result.vanishing_gradient_share, 1) << run.label;
  }
}

TEST(IgrVae, BadRelaxationIsNamed) {
  IgrVaeConfig config;
  RelaxationRun run{"bad", "gumbel", 0.5, 0, NAN, NAN};
  try {
    train_igr_vae(run, prototype_images(), config);
    FAIL() << "no error";
  } catch (const c10::ValueError& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find("relaxation"), std::string::npos);
  }
}

}  // namespace
}  // namespace structgrad::experiments
