// The order of K in which matmul_few_streams (matmul_few_streams.cuh) feeds
// the tensor cores: which four consecutive elements of a row each lane's
// registers hold, so that the weights come straight from the 16-byte units of
// the field-streams GEMV (kernels::StreamsDot<F>::load) with no shuffle and no
// shared memory, and X is staged to match.
//
// A unit is 32 weights of one row (StreamsDot's unit: a 32-element block, or
// an eighth of a K-quant super-block). In a group of four consecutive units,
// lane t % 4 = t of a quad loads unit t, whole. An mma.m16n8k16 B fragment
// asks lane t for k = 2t, 2t+1 (register 0) and 2t+8, 2t+9 (register 1) of a
// 16-wide chunk of K; a dot product does not care in which order K is
// summed, so chunk c (0..7) of the group is *defined* as: word c / 2 of each
// lane's unit, low nibbles for even c and high nibbles for odd c (Q8_0: the
// c-th word of its 32 bytes), bytes 0, 1 in register 0 and bytes 2, 3 in
// register 1. Those four bytes' quants are four consecutive elements of the
// row, starting at fragment_element<F>(unit, c); X's A fragment takes the
// same four elements of each token.
// Plain C++ usable on host and device (PAGODA_HD), so the CPU tests check
// that every element of a row is fed exactly once.
#pragma once

#include <cstddef>
#include <type_traits>

#include <pagoda/core/host_device.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/legacy_formats.hpp>

namespace pagoda::kernels {

inline constexpr std::size_t fragment_unit_elements = 32;  // weights of a unit
inline constexpr int fragment_units_per_group = 4;         // one per lane of a quad
inline constexpr int fragment_chunks_per_group = 8;        // 16-wide chunks of K in a group's 128

// The first of the four consecutive row elements that chunk `c` of `unit`
// feeds (unit counted from the row's start; elements likewise).
template <class F>
PAGODA_HD_INLINE std::size_t fragment_element(std::size_t unit, int c) {
  const auto word = static_cast<std::size_t>(c / 2);
  const auto high = static_cast<std::size_t>(c % 2);
  if constexpr (std::is_same_v<F, quant::Q8_0>) {
    // 32 signed bytes, element i in byte i.
    return 32 * unit + 4 * static_cast<std::size_t>(c);
  } else if constexpr (std::is_same_v<F, quant::Q4_K> || std::is_same_v<F, quant::Q5_K>) {
    // Unit j of a super-block: qs[16j..16j+15], low nibbles sub-block 2(j/2), high 2(j/2)+1,
    // each at elements 16(j%2).. of its sub-block.
    const std::size_t j = unit % 8;
    return 256 * (unit / 8) + 64 * (j / 2) + 32 * high + 16 * (j % 2) + 4 * word;
  } else if constexpr (std::is_same_v<F, quant::Q6_K>) {
    // Unit j = 4h + q: ql[64h+16q..]: low nibbles elements 128h+16q.., high 128h+64+16q..
    const std::size_t j = unit % 8;
    return 256 * (unit / 8) + 128 * (j / 4) + 64 * high + 16 * (j % 4) + 4 * word;
  } else {
    // Q4_0, Q4_1, Q5_0, Q5_1: a unit is a block; byte i holds element i (low) and i + 16 (high).
    static_assert(F::block_elements == 32, "fragment_element: a 32-element legacy block");
    return 32 * unit + 16 * high + 4 * word;
  }
}

// Where an element of a row is fed: the unit and chunk whose four elements
// (fragment_element<F>(unit, chunk) + 0..3) hold it. The inverse of
// fragment_element, for staging X a row's run at a time: elements 8i..8i+7
// are two chunks of one unit.
struct FragmentPosition {
  std::size_t unit;
  int chunk;
};
template <class F>
PAGODA_HD_INLINE FragmentPosition fragment_position(std::size_t element) {
  const std::size_t unit_base = element / 256 * 8;  // K-quants: the super-block's first unit
  const std::size_t r = element % 256;
  if constexpr (std::is_same_v<F, quant::Q8_0>) {
    return {element / 32, static_cast<int>(element % 32 / 4)};
  } else if constexpr (std::is_same_v<F, quant::Q4_K> || std::is_same_v<F, quant::Q5_K>) {
    // r = 64 (j / 2) + 32 high + 16 (j % 2) + 4 word
    const std::size_t j = 2 * (r / 64) + r % 32 / 16;
    return {unit_base + j, static_cast<int>(2 * (r % 16 / 4) + r % 64 / 32)};
  } else if constexpr (std::is_same_v<F, quant::Q6_K>) {
    // r = 128 (j / 4) + 64 high + 16 (j % 4) + 4 word
    const std::size_t j = 4 * (r / 128) + r % 64 / 16;
    return {unit_base + j, static_cast<int>(2 * (r % 16 / 4) + r % 128 / 64)};
  } else {
    static_assert(F::block_elements == 32, "fragment_position: a 32-element legacy block");
    // e = 32 unit + 16 high + 4 word
    return {element / 32, static_cast<int>(2 * (element % 16 / 4) + element % 32 / 16)};
  }
}

}  // namespace pagoda::kernels
