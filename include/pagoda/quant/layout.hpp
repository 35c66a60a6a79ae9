// How a quantized matrix's bytes are arranged where the GPU reads them: the
// second axis of a weight's type, beside its format. gguf_blocks is the file's
// own arrangement (what the zero-copy policies must read, in place);
// field_streams is the GPU-native one (quant/field_streams.hpp), offered by the
// policies that own writable memory for the weights (mapping::offers_layout).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pagoda::quant {

enum class WeightLayout : std::uint8_t { gguf_blocks, field_streams };

// What a user asks for: a layout, or auto (the best the policy offers).
enum class LayoutChoice : std::uint8_t { automatic, gguf_blocks, field_streams };

[[nodiscard]] constexpr std::string_view name_of(WeightLayout layout) {
  return layout == WeightLayout::gguf_blocks ? "gguf-blocks" : "field-streams";
}

[[nodiscard]] constexpr std::string_view name_of(LayoutChoice choice) {
  switch (choice) {
    case LayoutChoice::automatic: return "auto";
    case LayoutChoice::gguf_blocks: return "gguf";
    case LayoutChoice::field_streams: return "packed";
  }
  return "?";
}

// "auto", "gguf" (or "gguf-blocks"), "packed" (or "field-streams"); nullopt otherwise.
[[nodiscard]] inline std::optional<LayoutChoice> parse_layout_choice(std::string_view text) {
  if (text == "auto") return LayoutChoice::automatic;
  if (text == "gguf" || text == "gguf-blocks") return LayoutChoice::gguf_blocks;
  if (text == "packed" || text == "field-streams") return LayoutChoice::field_streams;
  return std::nullopt;
}

inline constexpr std::string_view layout_choice_names = "auto, gguf, packed";

}  // namespace pagoda::quant
