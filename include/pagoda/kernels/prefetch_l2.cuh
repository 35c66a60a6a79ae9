// kernels::prefetch_l2: bytes of global memory into L2 ahead of their loads,
// by the calling thread alone, without registers or a wait. Device code only.
#pragma once

#if !defined(__CUDACC__)
#error "prefetch_l2.cuh is device code"
#endif

#include <cstddef>
#include <cstdint>

namespace pagoda::kernels {

// [at, at + bytes) into L2 (sm_90: one bulk prefetch; earlier GPUs: a
// prefetch per 128-byte line, at most 64). The span is narrowed to whole
// 16-byte words inside it (the bulk prefetch's alignment), so a span inside
// an allocation never reaches past it.
__device__ __forceinline__ void prefetch_l2(const std::byte* at, std::size_t bytes) {
  const auto begin = (reinterpret_cast<std::uintptr_t>(at) + 15u) & ~std::uintptr_t{15};
  const auto end = (reinterpret_cast<std::uintptr_t>(at) + bytes) & ~std::uintptr_t{15};
  if (end <= begin) return;
  const auto* from = reinterpret_cast<const std::byte*>(begin);
  const auto size = static_cast<std::uint32_t>(end - begin);
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(from), "r"(size) : "memory");
#else
  for (std::uint32_t offset = 0; offset < size && offset < 64 * 128; offset += 128)
    asm volatile("prefetch.global.L2 [%0];" ::"l"(from + offset));
#endif
}

}  // namespace pagoda::kernels
