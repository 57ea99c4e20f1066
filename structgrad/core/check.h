// Argument checks shared by every public function.
//
// Each check raises c10::Error (ValueError/RuntimeError in Python) with a message that names
// the calling function and the argument, e.g.
//   "categorical.relax: tau must be positive, got -1".
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace structgrad::check {

// theta has at least `min_dim` dimensions, no zero-sized dimension, and a floating dtype.
void logits(const char* function, const char* name, const at::Tensor& theta, int64_t min_dim);

// What `logits` checks but NaN, for callers that fold the NaN check into a pass of their own.
void logits_shape(const char* function, const char* name, const at::Tensor& theta, int64_t min_dim);

// No NaN anywhere. -inf is allowed where absent parts are meant (graph families).
void no_nan(const char* function, const char* name, const at::Tensor& t);

// Every entry finite (no NaN, no +-inf).
void finite(const char* function, const char* name, const at::Tensor& t);

// value > 0 and finite.
void positive(const char* function, const char* name, double value);

// lo <= value <= hi.
void in_range(const char* function, const char* name, int64_t value, int64_t lo, int64_t hi);

// Shapes a and b broadcast against each other; `names` says whose they are ("q and p").
void broadcastable(const char* function, const char* names, at::IntArrayRef a, at::IntArrayRef b);

// "(4, 5, 6)" for error messages.
std::string shape_string(at::IntArrayRef sizes);

}  // namespace structgrad::check
