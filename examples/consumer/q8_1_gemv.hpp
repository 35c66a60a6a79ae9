// The consumer's own kernel instantiation (q8_1_gemv.cu), seen from host code.
#pragma once

namespace consumer {

enum class KernelCheck { passed, failed, no_gpu };

// Runs pagoda's gemv_q template, instantiated here for Q8_1 (a GGUF format
// pagoda does not list), on a small random matrix and compares it with the
// format's own dequantize_block on the host. Prints what it did.
KernelCheck check_q8_1_gemv();

}  // namespace consumer
