#include "structgrad/structures/relaxation.h"

namespace structgrad {

at::Tensor regularized_argmax(const char* function, const at::Tensor& z, int64_t event_dim,
                              const std::string& backward, const ops::RegularizedArgmax& solve,
                              const ops::RegularizedArgmax& unrolled) {
  if (backward == "custom") return solve(z);
  if (backward == "finite_difference") return ops::finite_difference_argmax(z, event_dim, solve);
  TORCH_CHECK_VALUE(backward == "unroll" && unrolled, function, ": backward must be \"custom\"",
                    unrolled ? ", \"finite_difference\" or \"unroll\"" : " or \"finite_difference\"", ", got \"",
                    backward, "\"");
  return unrolled(z);
}

}  // namespace structgrad
