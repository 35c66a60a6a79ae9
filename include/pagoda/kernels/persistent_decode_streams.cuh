// The persistent decode kernel (kernels and notes: persistent_decode.cuh),
// one instantiation per Main format of quant::field_stream_formats: the
// products in the model's main format run inline in the item loop, every
// other item through a call. cuda/GenerateFormatUnits.cmake generates one
// unit per format from cuda/templates/persistent_decode_streams_format.cu.in;
// persistent_decode.cu picks one by the model's main format.
#pragma once

#include <cstddef>

#include <cuda_runtime_api.h>

#include <pagoda/kernels/persistent_decode.cuh>

#if defined(__CUDACC__)
#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/gemv_streams.cuh>
#endif

namespace pagoda::kernels::persistent {

template <class Main>
struct MainKernel {
  // Blocks an SM holds at once with `shared` bytes of dynamic shared memory each.
  static int resident(std::size_t shared);
  static void launch(const Program& program, std::size_t shared, unsigned grid, cudaStream_t stream);
};

#if defined(__CUDACC__)

// At each engine's load (the current device's, before any capture): the
// kernel may take the most dynamic shared memory any engine asks for (a
// product of gemv_streams_max_cols columns), so it is never lowered under a
// graph already captured.
template <class Main>
int MainKernel<Main>::resident(std::size_t shared) {
  constexpr auto kernel = persistent_decode_kernel<block_threads, Main>;
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(shared_bytes(gemv_streams_max_cols))),
             "kernels::persistent::launch: cudaFuncSetAttribute(MaxDynamicSharedMemorySize)");
  int blocks = 0;
  check_cuda(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, block_threads, shared),
             "kernels::persistent::launch: cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  return blocks;
}

template <class Main>
void MainKernel<Main>::launch(const Program& program, std::size_t shared, unsigned grid, cudaStream_t stream) {
  constexpr auto kernel = persistent_decode_kernel<block_threads, Main>;  // opted in by resident(), at load
  kernel<<<grid, block_threads, shared, stream>>>(program);
  check_launch("kernels::persistent::launch");
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels::persistent

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::field_stream_formats: cuda/GenerateFormatUnits.cmake generates the
// units and these extern template declarations from
// cuda/templates/persistent_decode_streams_format.cu.in.
#include <pagoda/kernels/generated/persistent_decode_streams_externs.hpp>
