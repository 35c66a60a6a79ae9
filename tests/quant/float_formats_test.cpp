// F32, F16, BF16 as one-element "blocks", specified by hand-built values.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <limits>

#include <pagoda/quant/float_formats.hpp>

using namespace pagoda::quant;

TEST_CASE("F32 blocks are single little-endian floats returned unchanged") {
  const unsigned char bytes[4] = {0x00, 0x00, 0xc0, 0x3f};  // 1.5f
  F32::block b;
  std::memcpy(&b, bytes, sizeof b);
  float out = 0;
  F32::dequantize_block(b, &out);
  CHECK(out == 1.5f);
  CHECK(F32::dequantize_element(b, 0) == 1.5f);
  CHECK(F32::dequantize_element({-std::numeric_limits<float>::infinity()}, 0) ==
        -std::numeric_limits<float>::infinity());
}

TEST_CASE("F16 blocks widen their one half-precision value") {
  const unsigned char bytes[2] = {0x00, 0xbc};  // 0xbc00 = -1.0
  F16::block b;
  std::memcpy(&b, bytes, sizeof b);
  float out = 0;
  F16::dequantize_block(b, &out);
  CHECK(out == -1.0f);
  CHECK(F16::dequantize_element({{0x3555}}, 0) == 0x1.554p-2f);  // 0.333251953125
  CHECK(F16::dequantize_element({{0x0001}}, 0) == 0x1p-24f);
  CHECK(F16::dequantize_element({{0x7c00}}, 0) == std::numeric_limits<float>::infinity());
}

TEST_CASE("BF16 blocks widen their one bfloat16 value") {
  const unsigned char bytes[2] = {0xc0, 0x3f};  // 0x3fc0 = 1.5
  BF16::block b;
  std::memcpy(&b, bytes, sizeof b);
  float out = 0;
  BF16::dequantize_block(b, &out);
  CHECK(out == 1.5f);
  CHECK(BF16::dequantize_element({{0xc2f7}}, 0) == -123.5f);
}
