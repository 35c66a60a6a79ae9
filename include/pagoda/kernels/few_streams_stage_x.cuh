// How matmul_few_streams' blocks stage X in shared memory (the two
// FewStreamsStaging ways of tuning/matmul_few_streams.hpp): in the order of the
// mma.sync A fragments, K taken as streams_fragment_order.hpp orders it, so
// each A fragment is one 16-byte load. Device-only: nvcc.
#pragma once

#if defined(__CUDACC__)

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>

#include <pagoda/kernels/mma_sync.cuh>
#include <pagoda/kernels/streams_fragment_order.hpp>
#include <pagoda/kernels/tuning/matmul_few_streams.hpp>

namespace pagoda::kernels::few_streams {

// X of `count` groups from group `first` of the block's units, in the order
// the A fragments want it: entry (group, chunk c, lane (g, t)) holds, of unit
// 4 group + t, the elements e = fragment_element(unit, c) + 0..3 of tokens g
// and g + 8 as the four A registers: {g: e, e+1}, {g+8: e, e+1}, {g: e+2,
// e+3}, {g+8: e+2, e+3} (one 16-byte load, no register moves before the mma).
// Tokens past `tokens` and units past the row are zeros. 4-byte cp.async
// copies, all in flight at once, waited for here: a loop that stored as it
// went waited one L2 round trip per entry, and registers to hold them all
// would spill.
template <class F, int Threads>
__device__ __forceinline__ void stage_x(uint4* staged, const __half* __restrict__ x, int tokens, int cols,
                                        std::size_t units, std::size_t first_unit, int count) {
  const int entries = count * fragment_chunks_per_group * 32;
  for (int e = static_cast<int>(threadIdx.x); e < entries; e += Threads) {
    const int lane = e % 32;
    const int c = (e / 32) % fragment_chunks_per_group;
    const std::size_t unit = first_unit + static_cast<std::size_t>(e / (32 * fragment_chunks_per_group)) *
                                              fragment_units_per_group + static_cast<std::size_t>(lane % 4);
    const bool present = unit < units;
    const std::size_t at = present ? fragment_element<F>(unit, c) : 0;
    auto* entry = reinterpret_cast<unsigned char*>(staged + e);
#pragma unroll
    for (int r = 0; r < 4; ++r) {  // register r: token g (+8 for odd r), elements at + 2 (r / 2)
      const int token = lane / 4 + 8 * (r % 2);
      const bool valid = present && token < tokens;
      // A source address must be valid even where nothing is read (zero fill).
      const __half* src = x + (valid ? static_cast<std::size_t>(token) * static_cast<std::size_t>(cols) + at +
                                           2 * static_cast<std::size_t>(r / 2)
                                     : 0);
      mma::cp_async_small<4>(entry + 4 * r, src, valid);
    }
  }
  mma::cp_async_commit();
  mma::cp_async_wait<0>();
}

// The same entries from whole rows of X: item i is one run of 8 consecutive
// columns of tokens g and g + 8 (two 16-byte loads), the A registers of two
// chunks of one unit (two 16-byte stores). A group is 128 consecutive columns
// for every format, four units, so an item's lane is 4 g + unit % 4. Eight
// consecutive items are four units' same run of two tokens' pairs: eight
// consecutive entries of a chunk, no bank conflict for the legacy formats.
template <class F, int Threads>
__device__ __forceinline__ void stage_x_rows(uint4* staged, const __half* __restrict__ x, int tokens, int cols,
                                             std::size_t first_unit, int count) {
  const int items = count * fragment_chunks_per_group * 16;  // 16 runs of 8 columns by 8 token pairs, a group
  const std::size_t first = first_unit * fragment_unit_elements;
  for (int i = static_cast<int>(threadIdx.x); i < items; i += Threads) {
    const int g = 2 * ((i / 8) % 4) + i % 2;
    const int run = (i / 32) % 4 + 4 * ((i / 2) % 4);
    const int group = i / 128;
    const std::size_t e = first + static_cast<std::size_t>(group) * few_streams_group_columns + 8 * static_cast<std::size_t>(run);
    uint4 a{0, 0, 0, 0}, b{0, 0, 0, 0};
    if (e < static_cast<std::size_t>(cols)) {
      if (g < tokens) a = *reinterpret_cast<const uint4*>(x + static_cast<std::size_t>(g) * cols + e);
      if (g + 8 < tokens) b = *reinterpret_cast<const uint4*>(x + static_cast<std::size_t>(g + 8) * cols + e);
    }
    const FragmentPosition low = fragment_position<F>(e), high = fragment_position<F>(e + 4);
    const int lane = 4 * g + static_cast<int>(low.unit % fragment_units_per_group);
    staged[(group * fragment_chunks_per_group + low.chunk) * 32 + lane] = uint4{a.x, b.x, a.y, b.y};
    staged[(group * fragment_chunks_per_group + high.chunk) * 32 + lane] = uint4{a.z, b.z, a.w, b.w};
  }
}

}  // namespace pagoda::kernels::few_streams

#endif  // __CUDACC__
