// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 specified by hand-built blocks whose values are
// worked out by hand from the GGUF layout (every expected value is exact).
#include <doctest/doctest.h>

#include <array>
#include <cstddef>

#include <pagoda/quant/legacy_formats.hpp>

using namespace pagoda::quant;

namespace {

template <class F>
std::array<float, F::block_elements> decode(const typename F::block& b) {
  std::array<float, F::block_elements> out{};
  F::dequantize_block(b, out.data());
  for (int i = 0; i < static_cast<int>(F::block_elements); ++i)
    REQUIRE_MESSAGE(F::dequantize_element(b, i) == out[i], "element " << i);
  return out;
}

constexpr f16_bits f16(float x) { return f32_to_f16(x); }

}  // namespace

TEST_CASE("legacy blocks put every field at its GGUF byte offset") {
  CHECK(offsetof(Q4_0::block, qs) == 2);
  CHECK(offsetof(Q4_1::block, m) == 2);
  CHECK(offsetof(Q4_1::block, qs) == 4);
  CHECK(offsetof(Q5_0::block, qh) == 2);
  CHECK(offsetof(Q5_0::block, qs) == 6);
  CHECK(offsetof(Q5_1::block, qh) == 4);
  CHECK(offsetof(Q5_1::block, qs) == 8);
  CHECK(offsetof(Q8_0::block, qs) == 2);
}

TEST_CASE("Q4_0 dequantizes low nibbles first, then high nibbles, as (q - 8) * d") {
  Q4_0::block b{f16(0.5f), {}};
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<std::uint8_t>(j | ((15 - j) << 4));
  const auto x = decode<Q4_0>(b);
  for (int j = 0; j < 16; ++j) {
    CHECK(x[j] == (j - 8) * 0.5f);        // low nibble of byte j: element j
    CHECK(x[j + 16] == (7 - j) * 0.5f);   // high nibble (15 - j) of byte j: element j + 16
  }
  CHECK(x[0] == -4.0f);
  CHECK(x[16] == 3.5f);
}

TEST_CASE("Q4_1 dequantizes as q * d + m") {
  Q4_1::block b{f16(0.25f), f16(-1.0f), {}};
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<std::uint8_t>(0xf0 | j);
  const auto x = decode<Q4_1>(b);
  for (int j = 0; j < 16; ++j) {
    CHECK(x[j] == j * 0.25f - 1.0f);
    CHECK(x[j + 16] == 2.75f);  // 15 * 0.25 - 1
  }
}

TEST_CASE("Q5_0 takes element j's fifth bit from bit j of the little-endian 32-bit mask qh") {
  // Bits 0, 8 and 31 set: elements 0, 8 and 31.
  Q5_0::block b{f16(2.0f), {0x01, 0x01, 0x00, 0x80}, {}};
  b.qs[0] = 0x3f;   // element 0: 15 (+16), element 16: 3
  b.qs[15] = 0x70;  // element 15: 0, element 31: 7 (+16)
  const auto x = decode<Q5_0>(b);
  CHECK(x[0] == (31 - 16) * 2.0f);
  CHECK(x[8] == (16 - 16) * 2.0f);
  CHECK(x[16] == (3 - 16) * 2.0f);
  CHECK(x[15] == (0 - 16) * 2.0f);
  CHECK(x[31] == (23 - 16) * 2.0f);
  CHECK(x[1] == -32.0f);
}

TEST_CASE("Q5_1 dequantizes as q * d + m with the fifth bit from qh") {
  Q5_1::block b{f16(0.5f), f16(10.0f), {0x00, 0x00, 0x01, 0x00}, {}};  // bit 16: element 16
  b.qs[0] = 0x21;
  const auto x = decode<Q5_1>(b);
  CHECK(x[0] == 1 * 0.5f + 10.0f);
  CHECK(x[16] == (2 + 16) * 0.5f + 10.0f);
  CHECK(x[1] == 10.0f);
  CHECK(x[17] == 10.0f);
}

TEST_CASE("Q8_0 dequantizes signed bytes as q * d, -128 included") {
  Q8_0::block b{f16(0.25f), {}};
  for (int i = 0; i < 32; ++i) b.qs[i] = static_cast<std::int8_t>(i - 16);
  b.qs[31] = -128;
  const auto x = decode<Q8_0>(b);
  for (int i = 0; i < 31; ++i) CHECK(x[i] == (i - 16) * 0.25f);
  CHECK(x[31] == -32.0f);
}

TEST_CASE("a zero scale gives zeros, whatever the quants") {
  Q4_0::block b{f16(0.0f), {}};
  for (auto& q : b.qs) q = 0x9c;
  for (float v : decode<Q4_0>(b)) CHECK(v == 0.0f);
}
