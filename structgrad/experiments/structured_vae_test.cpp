#include "structgrad/experiments/structured_vae.h"

#include <gtest/gtest.h>

#include <cmath>

#include "structgrad/testing/prototype_images.h"

namespace structgrad::experiments {
namespace {

StructuredVaeConfig small_structured_config() {
  StructuredVaeConfig config;
  config.latents = 4;
  config.hidden = 32;
  config.batch_size = 32;
  config.steps = 60;
  config.eval_every = 4;
  config.eval_images = 64;
  config.learning_rate = 3e-3;
  config.progress = false;
  return config;
}

TEST(StructuredVae, EveryEncoderAndEstimatorTrainsWithFiniteDecreasingLoss) {
  const ImageDataset data = testing::prototype_images();
  StructuredVaeConfig config = small_structured_config();
  for (const char* general_solver : {"enumeration", "integer_program"}) {
    config.general_solver = general_solver;
    for (const auto& run : structured_vae_runs()) {
      if (config.general_solver == "integer_program" && run.encoder != "general") continue;
      StructuredVaeResult result = train_structured_vae(run, data, config);
      ASSERT_EQ(result.training.curve.size(), 15u) << run.label;
      for (const auto& point : result.training.curve) EXPECT_TRUE(std::isfinite(point.test_loss)) << run.label;
      EXPECT_LT(result.training.final_test_loss, result.training.curve.front().test_loss) << run.label;
      // Structured encoders time every exact solver on the same perturbed batch (which checks
      // that they agree on the maximum); the supermodular one max-flow too.
      const size_t solvers = run.encoder == "unstructured" ? 0 : run.encoder == "supermodular" ? 3 : 2;
      ASSERT_EQ(result.timings.size(), solvers) << run.label;
      for (const auto& t : result.timings) EXPECT_GE(t.seconds_per_batch, 0) << t.solver;
    }
  }
}

TEST(StructuredVae, BadRunsAreNamed) {
  const ImageDataset data = testing::prototype_images();
  StructuredVaeConfig config = small_structured_config();
  StructuredRun bad_encoder{"bad", "tree", "direct", {}, {}};
  StructuredRun bad_estimator{"bad", "general", "arm", {}, {}};
  for (const auto& [run, word] : {std::pair{bad_encoder, "encoder"}, std::pair{bad_estimator, "direct"}}) {
    try {
      train_structured_vae(run, data, config);
      ADD_FAILURE() << "no error for " << word;
    } catch (const c10::ValueError& e) {
      EXPECT_NE(std::string(e.what_without_backtrace()).find(word), std::string::npos) << e.what_without_backtrace();
    }
  }
  config.general_solver = "max_flow";
  EXPECT_THROW(train_structured_vae(structured_vae_runs().back(), data, config), c10::ValueError);
  config = small_structured_config();
  config.latents = 20;
  EXPECT_THROW(train_structured_vae(structured_vae_runs().front(), data, config), c10::ValueError);
}

}  // namespace
}  // namespace structgrad::experiments
