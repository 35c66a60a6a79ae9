// f16 / bf16 <-> f32: exact widening, round-to-nearest-even narrowing, and the
// edge cases (subnormals, signed zeros, infinities, NaN) that ggml files carry.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include <pagoda/quant/half.hpp>

using namespace pagoda::quant;

namespace {

std::uint32_t bits(float x) { return float_to_bits(x); }
float from(std::uint32_t b) { return bits_to_float(b); }
bool is_f16_nan(std::uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x03ffu) != 0; }

// The value of a finite f16 by the IEEE formula, computed in double.
double f16_value(std::uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  const double magnitude = exponent == 0 ? std::ldexp(mantissa, -24)
                                         : std::ldexp(1024 + mantissa, exponent - 25);
  return (h & 0x8000) ? -magnitude : magnitude;
}

}  // namespace

static_assert(f16_to_f32({0x3c00}) == 1.0f, "conversions are usable in constant expressions");
static_assert(f32_to_f16(-2.0f) == f16_bits{0xc000});
static_assert(bf16_to_f32({0x3f80}) == 1.0f);
static_assert(f32_to_bf16(1.0f) == bf16_bits{0x3f80});

TEST_CASE("every finite f16 widens to exactly its IEEE value") {
  for (std::uint32_t h = 0; h <= 0xffff; ++h) {
    const auto half = static_cast<std::uint16_t>(h);
    if ((half & 0x7c00) == 0x7c00) continue;
    REQUIRE_MESSAGE(static_cast<double>(f16_to_f32({half})) == f16_value(half), "f16 bits " << h);
  }
  CHECK(bits(f16_to_f32({0x0001})) == bits(0x1p-24f));  // smallest subnormal
  CHECK(bits(f16_to_f32({0x03ff})) == bits(1023 * 0x1p-24f));  // largest subnormal
  CHECK(bits(f16_to_f32({0x8000})) == 0x80000000u);  // -0 keeps its sign
  CHECK(f16_to_f32({0x7bff}) == 65504.0f);
}

TEST_CASE("f16 infinities widen to f32 infinities and NaNs keep their payload") {
  CHECK(f16_to_f32({0x7c00}) == std::numeric_limits<float>::infinity());
  CHECK(f16_to_f32({0xfc00}) == -std::numeric_limits<float>::infinity());
  CHECK(bits(f16_to_f32({0x7e00})) == 0x7fc00000u);
  CHECK(bits(f16_to_f32({0x7c01})) == 0x7f802000u);  // signalling NaN stays a NaN, not inf
  CHECK(bits(f16_to_f32({0xfd55})) == 0xffaaa000u);
}

TEST_CASE("narrowing an f16 value back to f16 gives the same bits") {
  for (std::uint32_t h = 0; h <= 0xffff; ++h) {
    const auto half = static_cast<std::uint16_t>(h);
    const f16_bits back = f32_to_f16(f16_to_f32({half}));
    if (is_f16_nan(half))
      REQUIRE(is_f16_nan(back.bits));
    else
      REQUIRE_MESSAGE(back.bits == half, "f16 bits " << h);
  }
}

TEST_CASE("f32 -> f16 rounds to nearest, ties to even, between every pair of f16 neighbours") {
  // Positive finite f16 values are ordered like their bit patterns; the
  // midpoint of two neighbours is exact in f32 (12 significant bits).
  for (std::uint16_t h = 0; h < 0x7bff; ++h) {
    const float lo = f16_to_f32({h});
    const float hi = f16_to_f32({static_cast<std::uint16_t>(h + 1)});
    const float mid = (lo + hi) / 2;
    const std::uint16_t even = (h % 2 == 0) ? h : static_cast<std::uint16_t>(h + 1);
    REQUIRE_MESSAGE(f32_to_f16(mid).bits == even, "tie above f16 " << h);
    REQUIRE(f32_to_f16(std::nextafter(mid, 0.0f)).bits == h);
    REQUIRE(f32_to_f16(std::nextafter(mid, 1e9f)).bits == h + 1);
    REQUIRE(f32_to_f16(-std::nextafter(mid, 0.0f)).bits == (0x8000 | h));
  }
}

TEST_CASE("f32 -> f16 overflows to infinity from 65520 and underflows to signed zero below 2^-25") {
  CHECK(f32_to_f16(65504.0f).bits == 0x7bff);
  CHECK(f32_to_f16(std::nextafter(65520.0f, 0.0f)).bits == 0x7bff);
  CHECK(f32_to_f16(65520.0f).bits == 0x7c00);  // tie: the even neighbour is infinity
  CHECK(f32_to_f16(-1e30f).bits == 0xfc00);
  CHECK(f32_to_f16(std::numeric_limits<float>::infinity()).bits == 0x7c00);
  CHECK(f32_to_f16(0x1p-25f).bits == 0x0000);  // tie between 0 and the smallest subnormal
  CHECK(f32_to_f16(std::nextafter(0x1p-25f, 1.0f)).bits == 0x0001);
  CHECK(f32_to_f16(-0x1p-30f).bits == 0x8000);
  CHECK(f32_to_f16(-0.0f).bits == 0x8000);
  CHECK(f32_to_f16(std::numeric_limits<float>::denorm_min()).bits == 0x0000);
  CHECK(f32_to_f16(std::nextafter(0x1p-14f, 0.0f)).bits == 0x0400);  // rounds up into the normals
}

TEST_CASE("f32 -> f16 keeps every NaN a quiet NaN, even one whose payload lives in low bits") {
  CHECK(f32_to_f16(std::numeric_limits<float>::quiet_NaN()).bits == 0x7e00);
  CHECK(f32_to_f16(from(0x7f800001u)).bits == 0x7e00);  // truncation would give infinity
  CHECK(f32_to_f16(from(0xff802000u)).bits == 0xfe01);
}

TEST_CASE("bf16 widens to the top half of an f32") {
  for (std::uint32_t b = 0; b <= 0xffff; ++b)
    REQUIRE(bits(bf16_to_f32({static_cast<std::uint16_t>(b)})) == b << 16);
  CHECK(bf16_to_f32({0x4049}) == 3.140625f);
}

TEST_CASE("f32 -> bf16 rounds to nearest, ties to even, and quiets NaN") {
  CHECK(f32_to_bf16(from(0x3f808000u)).bits == 0x3f80);  // tie, even below
  CHECK(f32_to_bf16(from(0x3f818000u)).bits == 0x3f82);  // tie, even above
  CHECK(f32_to_bf16(from(0x3f808001u)).bits == 0x3f81);
  CHECK(f32_to_bf16(from(0x3f807fffu)).bits == 0x3f80);
  CHECK(f32_to_bf16(from(0x7f7fffffu)).bits == 0x7f80);  // largest f32 rounds to infinity
  CHECK(f32_to_bf16(-std::numeric_limits<float>::infinity()).bits == 0xff80);
  CHECK(f32_to_bf16(from(0x7f800001u)).bits == 0x7fc0);  // NaN, not infinity
  CHECK(f32_to_bf16(from(0x00008000u)).bits == 0x0000);  // subnormal tie rounds to even zero
  CHECK(f32_to_bf16(-0.0f).bits == 0x8000);
}
