#include "structgrad/structures/family.h"

#include "structgrad/structures/categorical.h"

namespace structgrad {

std::vector<int64_t> Family::batch_shape(const at::Tensor& theta) const {
  TORCH_CHECK_VALUE(theta.dim() >= event_dim, name, ": theta must have at least ", event_dim,
                    " dimension(s)");
  auto sizes = theta.sizes();
  return {sizes.begin(), sizes.end() - event_dim};
}

const Family& family(const std::string& name) {
  if (name == "categorical") return categorical::family();
  std::string known;
  for (const auto& n : family_names()) known += (known.empty() ? "" : ", ") + n;
  TORCH_CHECK_VALUE(false, "unknown structure family '", name, "' (known: ", known, ")");
}

std::vector<std::string> family_names() { return {"categorical"}; }

}  // namespace structgrad
