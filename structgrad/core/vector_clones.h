// STRUCTGRAD_VECTOR_CLONES: compile a hot function twice, for the default x86-64 target and for
// x86-64-v3 (AVX2, FMA), and pick the version by the CPU's features at load time (function
// multiversioning). The default target vectorizes 2-wide (SSE2) and has no FMA. Functions the
// marked one inlines are compiled for its target too.
#pragma once

#if defined(__GNUC__) && __GNUC__ >= 12 && !defined(__clang__) && defined(__x86_64__)
#define STRUCTGRAD_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define STRUCTGRAD_VECTOR_CLONES
#endif
