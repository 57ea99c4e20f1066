// `structgrad check`: is an estimator unbiased for this family and this loss?
//
// Computes the exact gradient of E[f(x)] by enumeration and N independent draws of the
// estimator (one batched call: theta repeated N times, each row its own instance), then the
// per-coordinate bias, its standard error and z = bias / standard error. The verdict is
// "consistent with unbiased" when max |z| stays below the Bonferroni-corrected normal quantile
// at level alpha over the coordinates; otherwise the bias is significant and reported.
//
//   auto report = check_estimator("reinforce", categorical::family(), theta, f, options, 20000, 0);
//   if (!report.passed) ...   // an estimator that claims to be unbiased showed bias
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "structgrad/estimators/estimators.h"

namespace structgrad::estimators {

struct CheckReport {
  std::string estimator;
  std::string family;
  int64_t draws = 0;
  at::Tensor exact_gradient;  // (*event)
  at::Tensor mean;            // mean of the draws
  at::Tensor standard_error;  // of the mean
  at::Tensor bias;            // mean - exact_gradient
  double max_abs_z = 0;       // max over coordinates of |bias| / standard_error
  double critical_z = 0;      // the threshold for max_abs_z
  double relative_bias = 0;   // ||bias|| / ||exact_gradient||
  double variance = 0;        // total variance of one draw (trace of its covariance)
  bool bias_detected = false;
  bool claims_unbiased = false;
  bool passed = false;  // false only when an estimator that claims to be unbiased showed bias
  std::string verdict;
};

// theta: one instance, of the family's event shape (no batch dimension).
// f follows the estimators' convention: (S, N, *event) -> (S, N).
// The defaults of the tools built on it (the CLI's `check`, Python's estimators.check).
inline constexpr int64_t kCheckDraws = 20000;
inline constexpr double kCheckLevel = 1e-3;
CheckReport check_estimator(const std::string& estimator, const Family& family,
                            const at::Tensor& theta, const LossFn& f, const Options& options,
                            int64_t draws, uint64_t seed, double alpha = kCheckLevel);

// A fixed nonlinear test loss, f(x) = <a, x> + <b, x>^2, with a and b of theta's event shape.
LossFn quadratic_loss(const at::Tensor& a, const at::Tensor& b);

}  // namespace structgrad::estimators
