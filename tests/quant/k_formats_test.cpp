// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K specified by hand-built super-blocks: a few
// chosen quants and sub-block scales, every other element checked against the
// value its (zero) quant gives. Expected values are worked out by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <iterator>

#include <pagoda/quant/k_formats.hpp>

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

TEST_CASE("K-quant super-blocks put every field at its GGUF byte offset") {
  CHECK(offsetof(Q2_K::block, qs) == 16);
  CHECK(offsetof(Q2_K::block, d) == 80);
  CHECK(offsetof(Q2_K::block, dmin) == 82);
  CHECK(offsetof(Q3_K::block, qs) == 32);
  CHECK(offsetof(Q3_K::block, scales) == 96);
  CHECK(offsetof(Q3_K::block, d) == 108);
  CHECK(offsetof(Q4_K::block, scales) == 4);
  CHECK(offsetof(Q4_K::block, qs) == 16);
  CHECK(offsetof(Q5_K::block, qh) == 16);
  CHECK(offsetof(Q5_K::block, qs) == 48);
  CHECK(offsetof(Q6_K::block, qh) == 128);
  CHECK(offsetof(Q6_K::block, scales) == 192);
  CHECK(offsetof(Q6_K::block, d) == 208);
}

TEST_CASE("Q2_K: byte l of each 32-byte lane holds elements l, l+32, l+64, l+96 in bits 0-1, 2-3, 4-5, 6-7") {
  Q2_K::block b{};
  b.d = f16(1.0f);
  b.dmin = f16(0.5f);
  b.scales[0] = 0x21;   // group 0 (elements 0..15): scale 1, min 2
  b.scales[2] = 0x03;   // group 2: scale 3, min 0
  b.scales[4] = 0x12;   // group 4: scale 2, min 1
  b.scales[6] = 0x01;   // group 6: scale 1, min 0
  b.scales[15] = 0xf5;  // group 15: scale 5, min 15
  b.qs[8] = 0xe4;       // 0b11'10'01'00: elements 8, 40, 72, 104 get q = 0, 1, 2, 3
  b.qs[63] = 0xc0;      // second lane, byte 31: element 255 gets q = 3
  const auto x = decode<Q2_K>(b);
  CHECK(x[8] == 1 * 0 - 0.5f * 2);     // -1
  CHECK(x[40] == 3 * 1 - 0.0f);        // 3
  CHECK(x[72] == 2 * 2 - 0.5f * 1);    // 3.5
  CHECK(x[104] == 1 * 3 - 0.0f);       // 3
  CHECK(x[255] == 5 * 3 - 0.5f * 15);  // 7.5
  CHECK(x[0] == -1.0f);                // q = 0 in group 0: just -dmin * min
  CHECK(x[223] == 0.0f);
}

TEST_CASE("Q3_K: 6-bit signed scales, and a clear hmask bit subtracts 4") {
  Q3_K::block b{};
  b.d = f16(0.5f);
  // scale 0 = +3 (35 = 0b10'0011), scale 9 = -5 (27 = 0b01'1011), all others 0 (32 = 0b10'0000).
  const std::uint8_t scales[12] = {0x03, 0xb0, 0, 0, 0, 0, 0, 0, 0xaa, 0x9a, 0xaa, 0xaa};
  std::copy(std::begin(scales), std::end(scales), b.scales);
  for (int j = 0; j < 16; ++j) CHECK(q3_k_scale(b.scales, j) == (j == 0 ? 3 : j == 9 ? -5 : 0));

  b.qs[5] = 0x03;     // element 5: low bits 3 ...
  b.hmask[5] = 0x01;  // ... and bit 0 (= 5 / 32) set: q = 3
  b.qs[6] = 0x01;     // element 6: low bits 1, hmask bit clear: q = 1 - 4
  b.qs[54] = 0x02;    // element 150 = 128 + 22: second lane, byte 22, bits 0-1; hmask[22] bit 4 clear
  const auto x = decode<Q3_K>(b);
  CHECK(x[5] == 0.5f * 3 * 3);
  CHECK(x[6] == 0.5f * 3 * -3);
  CHECK(x[150] == 0.5f * -5 * -2);
  for (int e = 0; e < 256; ++e) {
    if (e == 5 || e == 6 || e == 150) continue;
    const float expected = e / 16 == 0 ? 0.5f * 3 * -4 : e / 16 == 9 ? 0.5f * -5 * -4 : 0.0f;
    REQUIRE_MESSAGE(x[e] == expected, "element " << e);
  }
}

namespace {

// Sub-block 1: scale 2, min 4. Sub-block 6: scale 33, min 50 (both above 15,
// so their top two bits live in bytes 2 and 6). All others zero.
void set_q4_k_scales(std::uint8_t* scales) {
  const std::uint8_t packed[12] = {0, 2, 0x80, 0, 0, 4, 0xc0, 0, 0, 0, 0x21, 0};
  std::copy(std::begin(packed), std::end(packed), scales);
}

}  // namespace

TEST_CASE("Q4_K / Q5_K: 6-bit scales and mins, the top bits of sub-blocks 4-7 in the high bits of bytes 0-7") {
  std::uint8_t scales[12];
  set_q4_k_scales(scales);
  for (int j = 0; j < 8; ++j) {
    const ScaleMin sm = k_scale_min(scales, j);
    CHECK(sm.scale == (j == 1 ? 2 : j == 6 ? 33 : 0));
    CHECK(sm.min == (j == 1 ? 4 : j == 6 ? 50 : 0));
  }
}

TEST_CASE("Q4_K: each 32-byte lane holds two sub-blocks, low nibbles first") {
  Q4_K::block b{};
  b.d = f16(1.0f);
  b.dmin = f16(0.25f);
  set_q4_k_scales(b.scales);
  b.qs[8] = 0x70;    // element 40 (sub-block 1, high nibble of lane 0 byte 8): q = 7
  b.qs[104] = 0x0f;  // element 200 (sub-block 6, low nibble of lane 3 byte 8): q = 15
  const auto x = decode<Q4_K>(b);
  CHECK(x[40] == 2 * 7 - 0.25f * 4);     // 13
  CHECK(x[200] == 33 * 15 - 0.25f * 50); // 482.5
  CHECK(x[8] == 0.0f);
  CHECK(x[232] == 0.0f);
  CHECK(x[33] == -1.0f);    // sub-block 1, q = 0
  CHECK(x[192] == -12.5f);  // sub-block 6, q = 0
}

TEST_CASE("Q5_K: the fifth bit of element e is bit e/32 of qh[e % 32]") {
  Q5_K::block b{};
  b.d = f16(1.0f);
  b.dmin = f16(0.25f);
  set_q4_k_scales(b.scales);
  b.qs[8] = 0x70;
  b.qs[104] = 0x0f;
  b.qh[8] = 0x42;  // bits 1 and 6: elements 40 and 200
  const auto x = decode<Q5_K>(b);
  CHECK(x[40] == 2 * (7 + 16) - 0.25f * 4);     // 45
  CHECK(x[200] == 33 * (15 + 16) - 0.25f * 50);  // 1010.5
  CHECK(x[8] == 0.0f);
  CHECK(x[33] == -1.0f);
}

TEST_CASE("Q6_K: 4 low bits from ql, 2 high bits from qh, int8 scales, q - 32") {
  Q6_K::block b{};
  b.d = f16(0.5f);
  for (auto& s : b.scales) s = 1;
  b.scales[0] = 2;
  b.scales[9] = -3;
  b.ql[3] = 0x95;   // element 3: low nibble 5; element 67: high nibble 9
  b.qh[3] = 0x3e;   // element 3: bits 0-1 = 2; element 35: bits 2-3 = 3; element 67: bits 4-5 = 3
  b.ql[86] = 0x0f;  // element 150 = 128 + 22: second half, ql[64 + 22] low nibble
  b.qh[54] = 0x03;  //                        qh[32 + 22] bits 0-1
  const auto x = decode<Q6_K>(b);
  CHECK(x[3] == 0.5f * 2 * ((5 | 2 << 4) - 32));     // 5
  CHECK(x[35] == 0.5f * 1 * ((0 | 3 << 4) - 32));    // 8
  CHECK(x[67] == 0.5f * 1 * ((9 | 3 << 4) - 32));    // 12.5
  CHECK(x[150] == 0.5f * -3 * ((15 | 3 << 4) - 32)); // -46.5
  for (int e = 0; e < 256; ++e) {
    if (e == 3 || e == 35 || e == 67 || e == 150) continue;
    const float expected = 0.5f * static_cast<float>(b.scales[e / 16]) * -32;
    REQUIRE_MESSAGE(x[e] == expected, "element " << e);
  }
}
