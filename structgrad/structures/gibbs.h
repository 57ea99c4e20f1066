// Exact samples of a family's Gibbs distribution p(x) ∝ exp(<theta, x>), batched: the plain-C++
// samplers of solvers/gibbs_sampling.h run on every instance, each from its own random stream
// seeded by one draw of the generator, so a seed gives the same structures at any thread count
// and in any dtype. Family::gibbs_sample of the structured families is built on this.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>

#include "structgrad/core/noise.h"
#include "structgrad/solvers/gibbs_sampling.h"

namespace structgrad::gibbs {

// Draws x (the instance's indicators, theta's event shape, zero on entry) for one instance of
// float64 theta; returns an error message, empty on success.
using InstanceSampler = std::function<std::string(const double* theta, solvers::RandomStream& random, double* x)>;

// Runs `sample` on every instance of theta (*batch, *event), the event being its last event_dim
// dimensions: returns (*batch, *event) indicators in theta's dtype. The first instance's error,
// if any, is raised as ValueError prefixed with `function`.
at::Tensor sample_each(const char* function, const at::Tensor& theta, int64_t event_dim, const InstanceSampler& sample,
                       GeneratorOpt generator);

// The tree sampler named by `sampler` ("auto", "wilson" or "sequential"); errors name `function`.
solvers::TreeSampler tree_sampler(const char* function, const std::string& sampler);

}  // namespace structgrad::gibbs
