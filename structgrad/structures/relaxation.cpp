#include "structgrad/structures/relaxation.h"

namespace structgrad {

at::Tensor regularized_argmax(const char* function, const at::Tensor& z, int64_t event_dim,
                              const std::string& backward, const ops::RegularizedArgmax& solve) {
  if (backward == "custom") return solve(z);
  TORCH_CHECK_VALUE(backward == "finite_difference", function,
                    ": backward must be \"custom\" or \"finite_difference\", got \"", backward, "\"");
  return ops::finite_difference_argmax(z, event_dim, solve);
}

}  // namespace structgrad
