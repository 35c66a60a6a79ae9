// The ggml tensor type ids a GGUF file may name, with the block geometry the
// GGUF specification gives each. The reader uses the geometry to check every
// tensor's byte size against the file before anything touches the bytes; which
// of these pagoda can compute with is decided by quant/format_list.hpp alone.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pagoda::gguf {

enum class TensorType : std::uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21,
  IQ2_S = 22, IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28,
  IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

// Elements per block and bytes per block of one tensor type.
struct TypeGeometry {
  TensorType type;
  std::string_view name;
  std::uint32_t block_elements;
  std::uint32_t block_bytes;
};

inline constexpr std::array<TypeGeometry, 32> known_tensor_types{{
    {TensorType::F32, "F32", 1, 4},         {TensorType::F16, "F16", 1, 2},
    {TensorType::Q4_0, "Q4_0", 32, 18},     {TensorType::Q4_1, "Q4_1", 32, 20},
    {TensorType::Q5_0, "Q5_0", 32, 22},     {TensorType::Q5_1, "Q5_1", 32, 24},
    {TensorType::Q8_0, "Q8_0", 32, 34},     {TensorType::Q8_1, "Q8_1", 32, 36},
    {TensorType::Q2_K, "Q2_K", 256, 84},    {TensorType::Q3_K, "Q3_K", 256, 110},
    {TensorType::Q4_K, "Q4_K", 256, 144},   {TensorType::Q5_K, "Q5_K", 256, 176},
    {TensorType::Q6_K, "Q6_K", 256, 210},   {TensorType::Q8_K, "Q8_K", 256, 292},
    {TensorType::IQ2_XXS, "IQ2_XXS", 256, 66}, {TensorType::IQ2_XS, "IQ2_XS", 256, 74},
    {TensorType::IQ3_XXS, "IQ3_XXS", 256, 98}, {TensorType::IQ1_S, "IQ1_S", 256, 50},
    {TensorType::IQ4_NL, "IQ4_NL", 32, 18}, {TensorType::IQ3_S, "IQ3_S", 256, 110},
    {TensorType::IQ2_S, "IQ2_S", 256, 82},  {TensorType::IQ4_XS, "IQ4_XS", 256, 136},
    {TensorType::I8, "I8", 1, 1},           {TensorType::I16, "I16", 1, 2},
    {TensorType::I32, "I32", 1, 4},         {TensorType::I64, "I64", 1, 8},
    {TensorType::F64, "F64", 1, 8},         {TensorType::IQ1_M, "IQ1_M", 256, 56},
    {TensorType::BF16, "BF16", 1, 2},       {TensorType::TQ1_0, "TQ1_0", 256, 54},
    {TensorType::TQ2_0, "TQ2_0", 256, 66},  {TensorType::MXFP4, "MXFP4", 32, 17},
}};

// Geometry of a raw type id read from a file; nullopt for ids no ggml version defines.
[[nodiscard]] constexpr std::optional<TypeGeometry> geometry_of(std::uint32_t raw_id) {
  for (const auto& g : known_tensor_types)
    if (static_cast<std::uint32_t>(g.type) == raw_id) return g;
  return std::nullopt;
}

[[nodiscard]] constexpr TypeGeometry geometry_of(TensorType type) {
  return *geometry_of(static_cast<std::uint32_t>(type));
}

[[nodiscard]] constexpr std::string_view name_of(TensorType type) { return geometry_of(type).name; }

}  // namespace pagoda::gguf
