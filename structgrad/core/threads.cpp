#include "structgrad/core/threads.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <dlfcn.h>

namespace structgrad {

void set_threads(int threads) {
  TORCH_CHECK_VALUE(threads >= 1, "set_threads: threads must be at least 1, got ", threads);
  at::set_num_threads(threads);
  using SetThreads = void (*)(int);
  if (auto openblas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    openblas(1);
}

}  // namespace structgrad
