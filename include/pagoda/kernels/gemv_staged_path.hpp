// When gemv_q's staged path applies (host and device code): which formats
// have it, which rows and alignments it takes, and how big its tiles are.
// The kernel is gemv_q_staged.cuh; gemv_q.cuh and gemv_q_fused.cuh launch it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <pagoda/core/type_list.hpp>
#include <pagoda/quant/format.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/legacy_formats.hpp>

namespace pagoda::kernels {

// The formats that opt in to the staged path, each with its X16Dot
// (x16_dot_q.cuh, which fails to compile unless this list and the X16Dot
// specialisations agree format for format).
using gemv_staged_formats = type_list<quant::Q4_0, quant::Q4_1, quant::Q5_0, quant::Q5_1, quant::Q8_0, quant::Q4_K,
                                      quant::Q5_K, quant::Q6_K>;

// Whether gemv_q<F> takes the staged path (host and device): x as int16 takes
// 2.125 bytes of shared memory per column, under 140 KB here.
inline constexpr std::size_t gemv_staged_max_cols = 65536;
template <quant::QuantFormat F>
inline constexpr bool gemv_has_staged_path = contains<F>(gemv_staged_formats{});
template <quant::QuantFormat F>
[[nodiscard]] inline bool gemv_takes_staged_path(const std::byte* weights, std::size_t cols) {
  return gemv_has_staged_path<F> && cols % F::block_elements == 0 && cols <= gemv_staged_max_cols &&
         cols / F::block_elements * F::block_bytes % 8 == 0 && reinterpret_cast<std::uintptr_t>(weights) % 16 == 0;
}

// Blocks of F in one staged tile, from the block's size: the most (a power of
// two, at most 64) whose bytes are whole 16-byte words and at most 1700
// (Q4_0 64 blocks, 1152 bytes; Q8_0 32, 1088; Q4_K 8, 1152; Q6_K 8, 1680),
// small enough that 8 warps x 2 rows of tiles stay under 27 KB of shared memory.
inline constexpr std::size_t gemv_staged_tile_max_bytes = 1700;
template <class F>
inline constexpr std::size_t gemv_staged_tile_blocks = [] {
  std::size_t blocks = 64;
  while (blocks > 1 && (blocks * F::block_bytes > gemv_staged_tile_max_bytes || blocks * F::block_bytes % 16 != 0))
    blocks /= 2;
  return blocks;
}();
static_assert(gemv_staged_tile_blocks<quant::Q4_0> == 64 && gemv_staged_tile_blocks<quant::Q4_1> == 64 &&
                  gemv_staged_tile_blocks<quant::Q5_0> == 64 && gemv_staged_tile_blocks<quant::Q5_1> == 64 &&
                  gemv_staged_tile_blocks<quant::Q8_0> == 32 && gemv_staged_tile_blocks<quant::Q4_K> == 8 &&
                  gemv_staged_tile_blocks<quant::Q5_K> == 8 && gemv_staged_tile_blocks<quant::Q6_K> == 8,
              "the tiles the staged GEMV was measured with (tuning/gemv_q.hpp)");

}  // namespace pagoda::kernels
