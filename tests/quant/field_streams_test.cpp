// The field-streams layout (quant/field_streams.hpp): a repacked matrix holds
// exactly the GGUF bytes, rearranged, and every decoder that reads fields
// through a field source gets the same values from either layout.
#include <cstring>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include <pagoda/kernels/tile_dequant.cuh>
#include <pagoda/quant/field_streams.hpp>

#include "random_blocks.hpp"

namespace {

using pagoda::quant::field_stream_formats;
using pagoda::quant::testing::as_tuple;

struct Shape {
  std::size_t rows, blocks_per_row;
};
// Ragged: one row, a partial first group, whole groups, a partial last group.
constexpr Shape shapes[] = {{1, 1}, {3, 2}, {8, 3}, {13, 5}, {17, 4}, {24, 1}};

template <class F>
std::vector<std::byte> matrix(const Shape& shape, std::mt19937& rng) {
  return pagoda::quant::testing::random_blocks<F>(shape.rows * shape.blocks_per_row, rng);
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("field-streams repacking is a permutation of the GGUF bytes and undoes exactly", F, streams_case_0) {
  std::mt19937 rng(1234);
  for (const Shape& shape : shapes) {
    CAPTURE(shape.rows);
    CAPTURE(shape.blocks_per_row);
    const std::size_t cols = shape.blocks_per_row * F::block_elements;
    const std::vector<std::byte> gguf = matrix<F>(shape, rng);
    std::vector<std::byte> packed(gguf.size()), back(gguf.size());
    pagoda::quant::pack_field_streams<F>(gguf.data(), packed.data(), shape.rows, cols);
    pagoda::quant::unpack_field_streams<F>(packed.data(), back.data(), shape.rows, cols);
    CHECK(std::memcmp(back.data(), gguf.data(), gguf.size()) == 0);
    // Same multiset of bytes, and (past one tiny block) not the same order.
    std::vector<int> count(256, 0);
    for (std::byte b : gguf) ++count[static_cast<int>(b)];
    for (std::byte b : packed) --count[static_cast<int>(b)];
    for (int c : count) REQUIRE(c == 0);
    if (shape.rows * shape.blocks_per_row > 1) CHECK(std::memcmp(packed.data(), gguf.data(), gguf.size()) != 0);
  }
}

TEST_CASE_TEMPLATE_DEFINE("a field-streams matrix is repacked in place, a chunk of whole groups at a time", F, streams_case_1) {
  // What DeviceCopy does: chunks of 8-row groups, each repacked on its own,
  // give the layout of the whole matrix repacked at once.
  std::mt19937 rng(99);
  const Shape shape{21, 3};
  const std::size_t cols = shape.blocks_per_row * F::block_elements;
  const std::size_t row_bytes = shape.blocks_per_row * F::block_bytes;
  const std::vector<std::byte> gguf = matrix<F>(shape, rng);
  std::vector<std::byte> whole(gguf.size()), chunked(gguf.size());
  pagoda::quant::pack_field_streams<F>(gguf.data(), whole.data(), shape.rows, cols);
  for (std::size_t first = 0; first < shape.rows; first += 16) {
    const std::size_t rows = std::min<std::size_t>(16, shape.rows - first);
    pagoda::quant::pack_field_streams<F>(gguf.data() + first * row_bytes, chunked.data() + first * row_bytes, rows,
                                         cols);
  }
  CHECK(std::memcmp(whole.data(), chunked.data(), whole.size()) == 0);
}

TEST_CASE_TEMPLATE_DEFINE("tile decoding reads the same values from both layouts", F, streams_case_2) {
  std::mt19937 rng(7);
  using pagoda::kernels::TileDequant;
  for (const Shape& shape : shapes) {
    const std::size_t cols = shape.blocks_per_row * F::block_elements;
    const std::size_t row_bytes = shape.blocks_per_row * F::block_bytes;
    const std::vector<std::byte> gguf = matrix<F>(shape, rng);
    std::vector<std::byte> packed(gguf.size());
    pagoda::quant::pack_field_streams<F>(gguf.data(), packed.data(), shape.rows, cols);
    std::size_t nonzero = 0;
    for (std::size_t r = 0; r < shape.rows; ++r) {
      const auto streams = pagoda::quant::field_stream_row<F>(packed.data(), shape.rows, cols, r);
      const std::byte* row = gguf.data() + r * row_bytes;
      const auto* blocks = reinterpret_cast<const typename F::block*>(row);
      for (int k = 0; k < static_cast<int>(cols); k += 8) {
        float from_gguf[8], from_streams[8];
        TileDequant<F>::run(row, k, static_cast<int>(cols), from_gguf);
        TileDequant<F>::decode(TileDequant<F>::load_from(streams, k), k, from_streams);
        for (int i = 0; i < 8; ++i) {
          const int e = k + i;
          const float expected = F::dequantize_element(blocks[e / F::block_elements], e % F::block_elements);
          REQUIRE(std::memcmp(&from_streams[i], &expected, sizeof(float)) == 0);
          REQUIRE(std::memcmp(&from_gguf[i], &expected, sizeof(float)) == 0);
          nonzero += expected != 0.0f;
        }
      }
    }
    CHECK(nonzero > 0);
  }
}

TEST_CASE("field-streams rows: 16-byte fields start 16-aligned in every group, the last one ragged too") {
  using pagoda::quant::Q6_K;
  alignas(16) static std::byte tensor[13 * 3 * Q6_K::block_bytes];
  for (std::size_t r = 0; r < 13; ++r) {
    const auto row = pagoda::quant::field_stream_row<Q6_K>(tensor, 13, 3 * 256, r);
    for (std::size_t s = 0; s < 3; ++s) CHECK(reinterpret_cast<std::uintptr_t>(row.stream[s]) % 16 == 0);
  }
}

TEST_CASE_TEMPLATE_APPLY(streams_case_0, as_tuple<field_stream_formats>::type);
TEST_CASE_TEMPLATE_APPLY(streams_case_1, as_tuple<field_stream_formats>::type);
TEST_CASE_TEMPLATE_APPLY(streams_case_2, as_tuple<field_stream_formats>::type);
