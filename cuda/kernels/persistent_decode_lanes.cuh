// The persistent decode kernel of one attention lane count, launched and
// sized (kernels and notes: include/pagoda/kernels/persistent_decode.cuh).
// Each persistent_decode_lanes_*.cu defines one LanesKernel's members (and so
// instantiates one kernel), so the three large kernels compile in parallel,
// each once; persistent_decode.cu picks one by head_dim.
#pragma once

#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/gemv_streams.cuh>
#include <pagoda/kernels/persistent_decode.cuh>

namespace pagoda::kernels::persistent {

template <int Lanes>
struct LanesKernel {
  // Blocks an SM holds at once with `shared` bytes of dynamic shared memory each.
  static int resident(std::size_t shared);
  static void launch(const Program& program, std::size_t shared, unsigned grid, cudaStream_t stream);
};

// Defined in persistent_decode_lanes_<Lanes>.cu, one unit each.
template <> int LanesKernel<8>::resident(std::size_t);
template <> int LanesKernel<16>::resident(std::size_t);
template <> int LanesKernel<32>::resident(std::size_t);
template <> void LanesKernel<8>::launch(const Program&, std::size_t, unsigned, cudaStream_t);
template <> void LanesKernel<16>::launch(const Program&, std::size_t, unsigned, cudaStream_t);
template <> void LanesKernel<32>::launch(const Program&, std::size_t, unsigned, cudaStream_t);

namespace detail {

// To the most any engine may ask (a product of gemv_streams_max_cols
// columns), so it is never lowered under a graph already captured; at every
// engine's load (resident()), on the current device. (A static flag here was
// one flag for all three kernels: they share a type.)
template <class Kernel>
void opt_in(Kernel kernel) {
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(shared_bytes(gemv_streams_max_cols))),
             "kernels::persistent::launch: cudaFuncSetAttribute(MaxDynamicSharedMemorySize)");
}

// LanesKernel<Lanes>'s members, for the one unit that defines them.
template <int Lanes>
int resident(std::size_t shared) {
  constexpr auto kernel = persistent_decode_kernel<block_threads, Lanes>;
  opt_in(kernel);
  int blocks = 0;
  check_cuda(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, block_threads, shared),
             "kernels::persistent::launch: cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  return blocks;
}

template <int Lanes>
void launch(const Program& program, std::size_t shared, unsigned grid, cudaStream_t stream) {
  constexpr auto kernel = persistent_decode_kernel<block_threads, Lanes>;  // opted in by resident(), at load
  kernel<<<grid, block_threads, shared, stream>>>(program);
  check_launch("kernels::persistent::launch");
}

}  // namespace detail

}  // namespace pagoda::kernels::persistent
