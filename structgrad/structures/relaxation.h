// What every family's relax shares: the choice of backward for its regularized argmax.
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "structgrad/ops/finite_difference.h"

namespace structgrad {

// solve(z) with the backward a relax call asked for:
//   "custom"             the solver's own hand-written backward
//   "finite_difference"  ops::finite_difference_argmax: two more solver calls, no Jacobian code
//   "unroll"             unrolled(z), where the family passes one: its iterative forward as
//                        torch ops, differentiated by autograd
// z: (*batch, *event) with event_dim trailing event dimensions. Anything else raises a
// ValueError naming `function` and the argument, with the choices that apply.
at::Tensor regularized_argmax(const char* function, const at::Tensor& z, int64_t event_dim,
                              const std::string& backward, const ops::RegularizedArgmax& solve,
                              const ops::RegularizedArgmax& unrolled = {});

}  // namespace structgrad
