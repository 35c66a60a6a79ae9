// The packed 6-bit sub-block scales of the K-quants, in one place so that the
// block formats (k_formats.hpp), the kernels and the test quantizer read the
// same bit layout. Both layouts pack their values into 12 bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include <pagoda/core/host_device.hpp>

namespace pagoda::quant {

// Elements in every K-quant super-block.
inline constexpr std::size_t qk_k = 256;

struct ScaleMin {
  int scale;  // 0..63
  int min;    // 0..63
};

// Q4_K / Q5_K: 8 scales and 8 mins, 6 bits each, of the 32-element sub-blocks.
//   bytes 0..3  : scale j (low 6 bits) | top 2 bits of scale j+4
//   bytes 4..7  : min j   (low 6 bits) | top 2 bits of min j+4
//   bytes 8..11 : low 4 bits of scale j+4 | low 4 bits of min j+4 << 4
PAGODA_HD_INLINE ScaleMin k_scale_min(const std::uint8_t* scales, int j) {
  if (j < 4) return {scales[j] & 0x3f, scales[j + 4] & 0x3f};
  return {(scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4),
          (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4)};
}

// Q3_K: 16 signed scales of the 16-element sub-blocks, stored as 6-bit values
// offset by 32.
//   bytes 0..7  : low 4 bits of scale j (low nibble) and of scale j+8 (high nibble)
//   bytes 8..11 : byte 8+k holds the top 2 bits of scales k, k+4, k+8, k+12
//                 at bit offsets 0, 2, 4, 6
PAGODA_HD_INLINE int q3_k_scale(const std::uint8_t* scales, int j) {
  const int low = j < 8 ? (scales[j] & 0x0f) : (scales[j - 8] >> 4);
  const int high = (scales[8 + (j & 3)] >> (2 * (j >> 2))) & 0x03;
  return (low | (high << 4)) - 32;
}

}  // namespace pagoda::quant
