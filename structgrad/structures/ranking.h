// The ranking family (Plackett-Luce / insertion sort, seed 002 §2.3): an ordering of n items, as
// a (*batch, n, n) 0/1 matrix with x[i, r] = 1 when item i has rank r (rank 0 is the first).
//
// theta: (*batch, n) item scores. sample sorts theta + G: the Plackett-Luce distribution, which
// is also the recursive Gumbel-Max trace (X = T).
//
//   auto x = structgrad::ranking::sample(theta, gen);                 // (B, n, n)
//   auto lp = structgrad::ranking::order_log_prob(theta, order);      // order (B, m), m <= n
#pragma once

#include <ATen/ATen.h>

#include "structgrad/structures/family.h"

namespace structgrad::ranking {

// The items by decreasing score.
at::Tensor map(const at::Tensor& theta);

// Plackett-Luce: the items by decreasing theta + G.
at::Tensor sample(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);

// log P(sample == x) for rank matrices x (*, *batch, n, n): returns (*, *batch). Differentiable.
at::Tensor log_prob(const at::Tensor& theta, const at::Tensor& x);

// log P(the first m ranks are order), order (*batch, m) item indices, 0 <= m <= n: the
// Plackett-Luce probability of a full (m = n) or partial ordering. (*batch), differentiable.
at::Tensor order_log_prob(const at::Tensor& theta, const at::Tensor& order);

// Every ordering of n items: (n!, n, n). n <= 8.
at::Tensor enumerate(int64_t n, const at::TensorOptions& options = at::kDouble);

// Insertion sort as a recursion: the trace is the items in rank order, (*batch, n).
Trace trace(const at::Tensor& theta, GeneratorOpt generator = c10::nullopt);
at::Tensor trace_log_prob(const at::Tensor& theta, const at::Tensor& trace);
// theta + G given the trace, (*batch, n), reparameterized.
at::Tensor conditional_gumbel(const at::Tensor& theta, const at::Tensor& trace, GeneratorOpt generator = c10::nullopt);

Family family();

}  // namespace structgrad::ranking
