// What the estimators share: sample dimensions, calling f with its checks, the parts a structure's
// score reads. Internal to estimators/ (not part of the public API).
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "structgrad/estimators/estimators.h"

namespace structgrad::estimators::detail {

// (samples, *sizes).
std::vector<int64_t> with_samples(int64_t samples, at::IntArrayRef sizes);

// theta repeated S times along a new leading dimension (a view: gradients flow back to theta).
at::Tensor repeat_samples(const at::Tensor& theta, int64_t num_samples);

// One tensor per structure, (N, *rest), seen by every instance of a batch: (N, *batch, *rest).
at::Tensor over_batch(const at::Tensor& per_structure, const std::vector<int64_t>& batch);

// The parts of theta a structure's score reads: all, or the upper triangle of symmetric families
// (an undirected edge scores once, and its gradient lands where the family's log_prob reads it).
at::Tensor scored_parts(const Family& family, const at::Tensor& x);

// The dimensions of a family's event, counted from the end: {-1} or {-1, -2}.
std::vector<int64_t> event_dims(const Family& family);

// Calls f and checks that it returned one loss per sample and instance.
at::Tensor evaluate(const char* estimator, const Family& family, const at::Tensor& theta, const LossFn& f,
                    const at::Tensor& structures);

void check_theta(const char* estimator, const Family& family, const at::Tensor& theta);

// Refuses a family without a verb the estimator needs: "<estimator>: family <name> has no <what>".
void require(bool has, const char* estimator, const Family& family, const char* what);

// d output / d input, zeros where output does not depend on input.
at::Tensor gradient(const at::Tensor& output, const at::Tensor& input, bool create_graph);

}  // namespace structgrad::estimators::detail
