// Thread settings for torch-heavy programs on few cores.
#pragma once

namespace structgrad {

// Sets torch's intra-op threads to `threads` and, when the BLAS in use is OpenBLAS, pins it to
// one thread: torch already parallelizes around BLAS calls, and two thread pools spinning on
// the same cores made the discrete VAE 2-3x slower on 2 cores.
void set_threads(int threads);

}  // namespace structgrad
