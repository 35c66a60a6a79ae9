// The persistent decode step's weights ahead of their items
// (persistent_decode.cuh): a product item's rows copied into one of a
// block's two shared-memory stages with bulk copies (sm_90: cp.async.bulk,
// an mbarrier a stage counting the bytes in), or prefetched into L2 where
// they are not staged. Device code only.
#pragma once

#if !defined(__CUDACC__)
#error "persistent_stages.cuh is device code"
#endif

#include <cstddef>
#include <cstdint>

#include <pagoda/kernels/persistent_program.hpp>
#include <pagoda/kernels/prefetch_l2.cuh>

namespace pagoda::kernels::persistent {

// The weights of a product's item [first, first + count) into L2: rows are
// whole groups of 8 one after another in the field-streams layout.
__device__ __forceinline__ void prefetch_gemv_item(const GemvOp& g, const Item& item) {
  for (std::uint32_t p = 0; p < g.part_count; ++p) {
    const RowRange r = part_rows(g, p, item.first, item.count);
    if (r.lo < r.hi)
      prefetch_l2(g.parts[p].weights + std::size_t{r.lo} * g.parts[p].row_bytes, (r.hi - r.lo) * g.parts[p].row_bytes);
  }
}

__device__ __forceinline__ std::uint32_t shared_address(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

// The stages' barriers (mbarriers: one arrival, thread 0's, and the copy's
// bytes complete a phase), by thread 0 before the block's first barrier.
__device__ __forceinline__ void init_stage_barriers(std::uint64_t* full, int count) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  for (int i = 0; i < count; ++i)
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(shared_address(full + i)) : "memory");
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
#endif
}

// One thread: an item's weights (its planned copies: each part's rows, in
// part order, as run_gemv reads them) into `stage`, landing on `full`. The
// stage's last reads were the generic proxy's, before the block barrier
// that ended its item; the proxy fence orders them before the copy's writes.
__device__ __forceinline__ void stage_gemv_item(const Item& item, std::byte* stage, std::uint64_t* full) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  const std::uint32_t barrier = shared_address(full);
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(barrier), "r"(item.stage_bytes)
               : "memory");
  std::uint32_t to = shared_address(stage);
#pragma unroll
  for (int c = 0; c < 3; ++c) {
    if (item.copy_bytes[c] == 0) continue;
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(to),
                 "l"(item.copy_from[c]), "r"(item.copy_bytes[c]), "r"(barrier)
                 : "memory");
    to += item.copy_bytes[c];
  }
#else
  __trap();  // the host stages nothing below sm_90 (PersistentStep)
#endif
}

// Every thread: returns once the stage's copy of phase `parity` has landed
// (its bytes are then visible to the waiting threads).
__device__ __forceinline__ void wait_stage(std::uint64_t* full, std::uint32_t parity) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  const std::uint32_t barrier = shared_address(full);
  std::uint32_t ready = 0;
  do {
    asm volatile(
        "{\n .reg .pred landed;\n mbarrier.try_wait.parity.shared::cta.b64 landed, [%1], %2;\n"
        " selp.u32 %0, 1, 0, landed;\n}"
        : "=r"(ready)
        : "r"(barrier), "r"(parity)
        : "memory");
  } while (ready == 0);
#else
  __trap();
#endif
}

// One thread: item `ticket`'s weights into `stage` if the host staged it.
__device__ __forceinline__ void stage_item(const Program& p, std::uint32_t ticket, std::byte* stage,
                                           std::uint64_t* full) {
  if (ticket >= p.item_count) return;
  const Item item = p.items[ticket];
  if (item.stage_bytes != 0) stage_gemv_item(item, stage, full);
}

}  // namespace pagoda::kernels::persistent
