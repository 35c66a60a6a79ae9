// The architectures pagoda runs, as data: each is a name (general.architecture)
// plus the few facts in which its layers differ. Adding one is a row here and,
// when its layers do something new, a small policy in the forward pass.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace pagoda::model {

// How RoPE pairs the dimensions of a head: adjacent pairs (2i, 2i+1), as in
// llama-family GGUFs whose converter permuted Q/K, or halves (i, i + d/2), as
// GPT-NeoX, Qwen2 and Gemma do.
enum class RopeLayout { interleaved, neox };

struct Architecture {
  std::string_view name;       // general.architecture, also the metadata key prefix
  RopeLayout rope_layout;
};

inline constexpr std::array supported_architectures{
    Architecture{"llama", RopeLayout::interleaved},
};

// The architecture called `name`, or an error naming it and listing those pagoda supports.
[[nodiscard]] Architecture find_architecture(std::string_view name, std::string_view file_name);

// "llama, …" — for error messages.
[[nodiscard]] std::string supported_architecture_names();

}  // namespace pagoda::model
