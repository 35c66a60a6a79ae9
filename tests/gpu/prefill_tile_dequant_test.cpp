// tile_dequant<F>, the piece decoder that fills matmul_q's shared-memory weight
// tiles, against the format's own decoder, bit for bit, for every listed format
// — on the host, where the same PAGODA_HD code compiles with g++. Random bytes
// (every bit pattern of the quants, subnormal and huge scales), rows placed at
// 2-byte (F32: 4-byte) alignment as in a file mapping, and for one-element
// formats a row end inside the last 8-element piece (read as zeros).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include <pagoda/kernels/tile_dequant.cuh>
#include <pagoda/quant/format_list.hpp>

#include "quant/random_blocks.hpp"

using namespace pagoda;

TEST_CASE_TEMPLATE_DEFINE("prefill: tile_dequant<F> decodes 8-element pieces exactly as F::dequantize_element", F,
                          prefill_tile_id) {
  std::mt19937 rng(static_cast<std::uint32_t>(F::id) + 5);
  const std::size_t n_blocks = F::block_elements == 1 ? 77 : 9;
  const std::vector<std::byte> blocks = quant::testing::random_blocks<F>(n_blocks, rng);
  const int cols = static_cast<int>(n_blocks * F::block_elements);
  // Offset by the block's alignment only: 2 bytes for the f16-scaled formats.
  std::vector<std::byte> storage(blocks.size() + 8);
  std::byte* const row = storage.data() + alignof(typename F::block);
  std::memcpy(row, blocks.data(), blocks.size());

  std::size_t compared = 0;
  for (int k = 0; k < cols; k += 8) {
    float piece[8];
    kernels::TileDequant<F>::run(row, k, cols, piece);
    for (int i = 0; i < 8; ++i) {
      float want = 0.0f;
      if (k + i < cols) {
        typename F::block block;
        std::memcpy(&block, row + static_cast<std::size_t>(k + i) / F::block_elements * F::block_bytes,
                    F::block_bytes);
        want = F::dequantize_element(block, (k + i) % static_cast<int>(F::block_elements));
      }
      if (std::memcmp(&want, &piece[i], sizeof(float)) != 0)
        FAIL(F::name << " element " << k + i << ": tile_dequant " << piece[i] << ", dequantize_element " << want);
      ++compared;
    }
  }
  CHECK(compared >= static_cast<std::size_t>(cols));
}
TEST_CASE_TEMPLATE_APPLY(prefill_tile_id, quant::testing::as_tuple<quant::formats>::type);
