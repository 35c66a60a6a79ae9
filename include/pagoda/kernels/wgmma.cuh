// Hopper's warpgroup matrix multiply (wgmma, sm_90a only): the instruction
// wrappers the prefill GEMM matmul_wgmma_streams.cuh uses.
//
// A wgmma is issued by the four warps of a warpgroup together and runs
// asynchronously: D (64 x N, f32, N/2 registers a thread) += A (64 x 16, f16)
// * B (16 x N, f16). Here A comes from registers, warp w of the group holding
// rows 16w..16w+15 in the layout of mma.sync m16n8k16's A fragment, so the
// weight decoder of mma_fragments.cuh feeds it unchanged; B comes from shared
// memory through a descriptor. Thread (g = lane / 4, t = lane % 4) of warp w
// holds D[16w + g (+8)][8n + 2t (+1)] in d[4n + {0, 1, 2, 3}].
//
// Ordering (PTX ISA, "asynchronous warpgroup level matrix" operations):
// fence() before a wgmma whose A or D registers other instructions wrote;
// commit() closes a group of issued wgmmas; wait<N>() blocks until at most N
// groups are pending; only then may D (or the A registers) be touched again.
// Shared memory written by the generic proxy (st.shared, cp.async) must be
// followed by fence_proxy_async() in each writing thread before the barrier
// that precedes the wgmma reading it.
//
// Compiled for other targets the wrappers trap: the launcher runs the wgmma
// kernel only where wgmma_built and the device is compute capability 9.0.
// Device-only: nvcc.
#pragma once

#if defined(__CUDACC__)

#include <cstdint>

namespace pagoda::kernels::wgmma {

// Descriptor of a K-major B operand in shared memory with the 128-byte
// swizzle (mma_stage.cuh's X layout): rows of 64 f16 (128 bytes), chunk c of
// row r at c ^ (r % 8), groups of 8 rows 1024 bytes apart, the tile starting
// at a multiple of 1024 bytes. Fields: start address >> 4 (bits 0-13),
// leading byte offset >> 4 (16-29; unused by a K-major swizzled operand
// whose K fits the 128-byte row), stride byte offset >> 4 (32-45: the 1024
// bytes between 8-row groups), swizzle mode (62-63: 1 = 128 bytes). The k16
// chunk kc of the row is the same descriptor 32 * kc bytes further: the
// swizzle applies to the address bits, so the offset stays unswizzled.
__device__ __forceinline__ std::uint64_t k_major_sw128(const void* shared) {
  const auto address = static_cast<std::uint32_t>(__cvta_generic_to_shared(shared));
  return static_cast<std::uint64_t>((address & 0x3ffffu) >> 4) | (std::uint64_t{1} << 16) |
         (std::uint64_t{1024 >> 4} << 32) | (std::uint64_t{1} << 62);
}

__device__ __forceinline__ void fence() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void commit() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
template <int Pending>
__device__ __forceinline__ void wait() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(Pending) : "memory");
#endif
}
__device__ __forceinline__ void fence_proxy_async() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}
// Keeps the compiler from moving reads or writes of an accumulator across
// the asynchronous wgmma that owns it (it cannot see that the hardware writes
// the registers after the instruction issues).
template <int N>
__device__ __forceinline__ void fence_registers(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// d (64 x N) += a (registers) * B (descriptor b), f16 inputs, f32 accumulators.
template <int N>
struct MmaRS;  // N = 64 and 128 below

template <>
struct MmaRS<64> {
  __device__ __forceinline__ static void run(float (&d)[32], const std::uint32_t (&a)[4], std::uint64_t b) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    asm volatile(
        "{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %37, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 "
        "{"
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
        "}, {%32, %33, %34, %35}, %36, accumulate, 1, 1, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(1));
#else
    (void)d, (void)a, (void)b;
    __trap();
#endif
  }
};

template <>
struct MmaRS<128> {
  __device__ __forceinline__ static void run(float (&d)[64], const std::uint32_t (&a)[4], std::uint64_t b) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    asm volatile(
        "{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %69, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 "
        "{"
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
        "}, {%64, %65, %66, %67}, %68, accumulate, 1, 1, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(1));
#else
    (void)d, (void)a, (void)b;
    __trap();
#endif
  }
};

}  // namespace pagoda::kernels::wgmma

#endif  // __CUDACC__
