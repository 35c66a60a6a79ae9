// The persistent decode kernel of one attention lane count, launched and
// sized (kernels and notes: include/pagoda/kernels/persistent_decode.cuh).
// Each persistent_decode_lanes_*.cu instantiates one LanesKernel, so the three
// large kernels compile in parallel; persistent_decode.cu picks one by head_dim.
#pragma once

#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/persistent_decode.cuh>

namespace pagoda::kernels::persistent {

template <int Lanes>
struct LanesKernel {
  static constexpr auto kernel = persistent_decode_kernel<block_threads, Lanes>;

  // Blocks an SM holds at once with `shared` bytes of dynamic shared memory each.
  static int resident(std::size_t shared) {
    opt_in(shared);
    int blocks = 0;
    check_cuda(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, block_threads, shared),
               "kernels::persistent::launch: cudaOccupancyMaxActiveBlocksPerMultiprocessor");
    return blocks;
  }

  static void launch(const Program& program, std::size_t shared, unsigned grid, cudaStream_t stream) {
    opt_in(shared);
    kernel<<<grid, block_threads, shared, stream>>>(program);
    check_launch("kernels::persistent::launch");
  }

 private:
  static void opt_in(std::size_t shared) {
    check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared)),
               "kernels::persistent::launch: cudaFuncSetAttribute(MaxDynamicSharedMemorySize)");
  }
};

extern template struct LanesKernel<8>;
extern template struct LanesKernel<16>;
extern template struct LanesKernel<32>;

}  // namespace pagoda::kernels::persistent
