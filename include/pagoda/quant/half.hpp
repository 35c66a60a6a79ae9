// IEEE binary16 (f16) and bfloat16 (bf16) storage types and their exact
// conversions to and from f32, usable on host and device. Written with integer
// bit operations rather than cuda_fp16.h so that the same code compiles with
// g++ alone and gives bit-identical results on both sides (subnormals, signed
// zeros, infinities and NaN payloads included).
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

#include <pagoda/core/host_device.hpp>

namespace pagoda::quant {

// Raw storage of one f16 / bf16 value as it lies in a GGUF file (little-endian
// u16). A distinct type so that a scale is never mistaken for an integer.
struct f16_bits {
  std::uint16_t bits;
  friend constexpr bool operator==(f16_bits, f16_bits) = default;
};
struct bf16_bits {
  std::uint16_t bits;
  friend constexpr bool operator==(bf16_bits, bf16_bits) = default;
};
static_assert(sizeof(f16_bits) == 2 && alignof(f16_bits) == 2);
static_assert(sizeof(bf16_bits) == 2 && alignof(bf16_bits) == 2);
static_assert(std::is_trivially_copyable_v<f16_bits> && std::is_standard_layout_v<f16_bits>);
static_assert(std::is_trivially_copyable_v<bf16_bits> && std::is_standard_layout_v<bf16_bits>);

PAGODA_HD_INLINE constexpr std::uint32_t float_to_bits(float value) {
  return std::bit_cast<std::uint32_t>(value);
}
PAGODA_HD_INLINE constexpr float bits_to_float(std::uint32_t bits) {
  return std::bit_cast<float>(bits);
}

// Exact: every f16 value is an f32 value. NaN payloads are kept (not quieted).
PAGODA_HD_INLINE constexpr float f16_to_f32(f16_bits h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h.bits & 0x8000u) << 16;
  const std::uint32_t exponent = (h.bits >> 10) & 0x1fu;
  const std::uint32_t mantissa = h.bits & 0x3ffu;
  if (exponent == 0x1f) return bits_to_float(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in f32 (a power-of-two scale).
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return bits_to_float(sign | float_to_bits(magnitude));
  }
  return bits_to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// Round to nearest, ties to even; overflow goes to infinity, tiny values to
// (signed) zero through the subnormals; NaN stays NaN (quiet, top payload bits kept).
PAGODA_HD_INLINE constexpr f16_bits f32_to_f16(float value) {
  const std::uint32_t bits = float_to_bits(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u)
    return {static_cast<std::uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu))};
  // 65520 = halfway between 65504 (largest f16) and 2^16: ties-to-even rounds up.
  if (magnitude >= 0x477ff000u) return {static_cast<std::uint16_t>(sign | 0x7c00u)};

  const std::uint32_t exponent = magnitude >> 23;
  std::uint32_t kept = 0;     // result bits before rounding
  std::uint32_t dropped = 0;  // the bits shifted out
  std::uint32_t shift = 13;
  if (exponent >= 113) {  // normal f16: rebias 127 -> 15, drop 13 mantissa bits
    kept = ((exponent - 112u) << 10) | ((magnitude & 0x7fffffu) >> 13);
    dropped = magnitude & 0x1fffu;
  } else {  // subnormal f16 in units of 2^-24: shift the full significand
    shift = 126u - exponent;
    if (shift > 24) return {sign};  // below 2^-25: rounds to zero
    const std::uint32_t significand = (magnitude & 0x7fffffu) | 0x800000u;
    kept = significand >> shift;
    dropped = significand & ((1u << shift) - 1u);
  }
  const std::uint32_t halfway = 1u << (shift - 1);
  // A carry out of the mantissa correctly bumps the exponent (or reaches 0x7c00 = inf).
  if (dropped > halfway || (dropped == halfway && (kept & 1u))) ++kept;
  return {static_cast<std::uint16_t>(sign | kept)};
}

// Exact: bf16 is the top half of an f32.
PAGODA_HD_INLINE constexpr float bf16_to_f32(bf16_bits b) {
  return bits_to_float(static_cast<std::uint32_t>(b.bits) << 16);
}

// Round to nearest, ties to even (overflow rounds to infinity); NaN is quieted
// rather than truncated, which could turn a NaN with a low payload into infinity.
PAGODA_HD_INLINE constexpr bf16_bits f32_to_bf16(float value) {
  const std::uint32_t bits = float_to_bits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return {static_cast<std::uint16_t>((bits >> 16) | 0x0040u)};
  const std::uint32_t rounded = bits + 0x7fffu + ((bits >> 16) & 1u);
  return {static_cast<std::uint16_t>(rounded >> 16)};
}

// Products and sums with one rounding each, on host and device alike: nvcc
// would otherwise fuse d*q - m into one FMA, and device results would differ
// by an ulp from the host code, from ggml and from gguf-py.
PAGODA_HD_INLINE float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
PAGODA_HD_INLINE float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
PAGODA_HD_INLINE float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

}  // namespace pagoda::quant
