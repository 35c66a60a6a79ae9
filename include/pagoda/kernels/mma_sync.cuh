// The warp-level tensor-core and async-copy instructions the prefill GEMM is
// built from (PTX ISA 8.x; sm_80 and later, so every architecture pagoda
// builds for): cp.async into shared memory with zero fill, ldmatrix, and
// mma.sync m16n8k16 with f16 operands and f32 accumulators.
//
// Fragment layouts (PTX ISA, "Matrix Fragments for mma.m16n8k16"), with
// g = lane / 4 and t = lane % 4:
//   A (16 x 16, row-major): a0 = (g, 2t..2t+1)   a1 = (g+8, 2t..2t+1)
//                           a2 = (g, 2t+8..+9)   a3 = (g+8, 2t+8..+9)
//   B (16 x 8, k x n):      b0 = (k 2t..2t+1, n g)   b1 = (k 2t+8..+9, n g)
//   C (16 x 8, f32):        c0, c1 = (g, 2t..2t+1)   c2, c3 = (g+8, 2t..2t+1)
// Each aN / bN register holds two f16, the lower k in the low half.
// Device-only: nvcc.
#pragma once

#if defined(__CUDACC__)

#include <cstdint>

namespace pagoda::kernels::mma {

// Shared-memory address of a generic pointer into shared memory.
__device__ __forceinline__ std::uint32_t shared_address(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

// 16 bytes global -> shared, bypassing L1; src_bytes 0 writes 16 zeros (and
// reads nothing: `src` must still be a valid address).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
  const int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(dst)), "l"(src),
               "r"(src_bytes));
}

// 4 or 8 bytes global -> shared (through L1), zero-filled when !valid.
template <int Bytes>
__device__ __forceinline__ void cp_async_small(void* dst, const void* src, bool valid) {
  static_assert(Bytes == 4 || Bytes == 8, "cp.async.ca copies 4, 8 or 16 bytes");
  const int src_bytes = valid ? Bytes : 0;
  asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(shared_address(dst)), "l"(src),
               "n"(Bytes), "r"(src_bytes));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

// Waits until at most `Pending` committed groups are still in flight.
template <int Pending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
}

// Four 8x8 f16 matrices from shared memory: lane l supplies the address of
// row l % 8 of matrix l / 8; register i receives this lane's two f16 of
// matrix i (row lane / 4, columns 2 (lane % 4) .. +1).
__device__ __forceinline__ void ldmatrix_x4(std::uint32_t (&r)[4], const void* row_address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row_address)));
}

// The same, each matrix transposed on the way: register i receives elements
// (row 2 (lane % 4) .. +1, column lane / 4) of matrix i (a B fragment from
// rows stored k-major, as V's rows are for P V).
__device__ __forceinline__ void ldmatrix_x4_trans(std::uint32_t (&r)[4], const void* row_address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row_address)));
}

// c += a * b: one m16n8k16 product, f16 x f16 -> f32.
__device__ __forceinline__ void mma_f16(float (&c)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

}  // namespace pagoda::kernels::mma

#endif  // __CUDACC__
