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
  // The most dynamic shared memory a block may take on the current device,
  // opted in to (at each engine's load, before any capture, so never lowered
  // under a graph already captured).
  static std::size_t max_dynamic_shared();
  // Blocks an SM holds at once with `shared` bytes of dynamic shared memory each.
  static int resident(std::size_t shared);
  static void launch(const Program& program, std::size_t shared, unsigned grid, cudaStream_t stream);
};

#if defined(__CUDACC__)

template <class Main>
std::size_t MainKernel<Main>::max_dynamic_shared() {
  constexpr auto kernel = persistent_decode_kernel<block_threads, Main>;
  int device = 0, optin = 0;
  check_cuda(cudaGetDevice(&device), "kernels::persistent: cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
             "kernels::persistent: cudaDeviceGetAttribute(MaxSharedMemoryPerBlockOptin)");
  cudaFuncAttributes attributes{};
  check_cuda(cudaFuncGetAttributes(&attributes, kernel), "kernels::persistent: cudaFuncGetAttributes");
  const int dynamic = optin - static_cast<int>(attributes.sharedSizeBytes);
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, dynamic),
             "kernels::persistent: cudaFuncSetAttribute(MaxDynamicSharedMemorySize)");
  return dynamic > 0 ? static_cast<std::size_t>(dynamic) : 0;
}

template <class Main>
int MainKernel<Main>::resident(std::size_t shared) {
  constexpr auto kernel = persistent_decode_kernel<block_threads, Main>;
  (void)max_dynamic_shared();  // opted in to the most, whatever this engine asks
  int blocks = 0;
  check_cuda(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, block_threads, shared),
             "kernels::persistent::launch: cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  return blocks;
}

template <class Main>
void MainKernel<Main>::launch(const Program& program, std::size_t shared, unsigned grid, cudaStream_t stream) {
  constexpr auto kernel = persistent_decode_kernel<block_threads, Main>;  // opted in at load (resident())
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
