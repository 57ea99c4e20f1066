#include "structgrad/core/check.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace structgrad::check {

std::string shape_string(at::IntArrayRef sizes) {
  std::ostringstream out;
  out << "(";
  for (size_t i = 0; i < sizes.size(); ++i) out << (i ? ", " : "") << sizes[i];
  out << (sizes.size() == 1 ? ",)" : ")");
  return out.str();
}

void logits(const char* function, const char* name, const at::Tensor& theta, int64_t min_dim) {
  logits_shape(function, name, theta, min_dim);
  no_nan(function, name, theta);
}

void logits_shape(const char* function, const char* name, const at::Tensor& theta, int64_t min_dim) {
  TORCH_CHECK_VALUE(theta.defined(), function, ": ", name, " is undefined");
  TORCH_CHECK_VALUE(theta.dim() >= min_dim, function, ": ", name, " must have at least ", min_dim,
                    " dimension(s), got shape ", shape_string(theta.sizes()));
  TORCH_CHECK_VALUE(theta.numel() > 0, function, ": ", name, " must not be empty, got shape ",
                    shape_string(theta.sizes()));
  // float16 and bfloat16 would pass some kernels and fail inside others (softmax, the solvers'
  // float64 copies round-trip them lossily): refused here, once, with one message.
  TORCH_CHECK_VALUE(theta.scalar_type() == at::kFloat || theta.scalar_type() == at::kDouble, function, ": ", name,
                    " must be float32 or float64, got ", theta.scalar_type());
}

void no_nan(const char* function, const char* name, const at::Tensor& t) {
  if (!at::isFloatingType(t.scalar_type()) || t.numel() == 0) return;
  // max propagates NaN: one reduction, no boolean temporary of t's size.
  TORCH_CHECK_VALUE(!std::isnan(t.max().item<double>()), function, ": ", name, " contains NaN");
}

void finite(const char* function, const char* name, const at::Tensor& t) {
  if (!at::isFloatingType(t.scalar_type()) || t.numel() == 0) return;
  // One reduction with no temporary of t's size (isfinite().all() makes four passes and three):
  // the extremes are finite exactly when every entry is, and a NaN makes them NaN.
  const auto [lowest, highest] = at::aminmax(t.detach());
  TORCH_CHECK_VALUE(std::isfinite(lowest.item<double>()) && std::isfinite(highest.item<double>()), function, ": ",
                    name, " must be finite (no NaN or inf)");
}

void positive(const char* function, const char* name, double value) {
  TORCH_CHECK_VALUE(std::isfinite(value) && value > 0, function, ": ", name,
                    " must be positive and finite, got ", value);
}

void in_range(const char* function, const char* name, int64_t value, int64_t lo, int64_t hi) {
  TORCH_CHECK_VALUE(value >= lo && value <= hi, function, ": ", name, " must be in [", lo, ", ",
                    hi, "], got ", value);
}

void broadcastable(const char* function, const char* names, at::IntArrayRef a, at::IntArrayRef b) {
  bool compatible = true;
  for (size_t i = 1; i <= std::min(a.size(), b.size()); ++i) {
    const int64_t x = a[a.size() - i], y = b[b.size() - i];
    compatible = compatible && (x == y || x == 1 || y == 1);
  }
  TORCH_CHECK_VALUE(compatible, function, ": ", names, " must have broadcastable shapes, got ", shape_string(a),
                    " and ", shape_string(b));
}

}  // namespace structgrad::check
