// kernels::to_half: out[i] = x[i] rounded to f16 (nearest, ties to even): the
// prefill GEMM's input (matmul_mma_streams.cuh), made once per activation and
// shared by every product that reads it (q, k and v; gate and up).
// Bytes moved: 6 * n. Bound: DRAM bandwidth (512 x 14336 activations: ~44 MB,
// ~15 us on an H100).
// Host code (g++) includes this header for the launcher; the kernel is
// compiled in cuda/kernels/to_half.cu.
#pragma once

#include <cstddef>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

namespace pagoda::kernels {

// Asynchronous on `stream`; throws pagoda::Error on null pointers or a failed launch.
void to_half(const float* x, __half* out, std::size_t n, cudaStream_t stream);

}  // namespace pagoda::kernels
