// The user's load choices (--hugepage-size, --no-fallback; LoadOptions of the
// same names) as a policy's own Options, in one place for the library's load
// and the benchmark. --no-fallback reaches the fallbacks that change where the
// weights live (hugetlb pages -> THP); DeviceCopy's staging fill keeps the
// weights in VRAM and stays automatic (forcing its registered fill would skip
// the large-folio check).
#pragma once

#include <string_view>

#include "pagoda/mapping/anonymous_mapping.hpp"

namespace pagoda::mapping {

struct UserMappingChoices {
  std::string_view hugepage_size = "auto";  // auto, 1g, 2m, none
  bool no_fallback = false;
};

// Throws pagoda::Error for an unknown hugepage size, whichever the policy.
template <class Policy>
[[nodiscard]] typename Policy::Options policy_options(const UserMappingChoices& choices) {
  const HugepageSize hugepage_size = parse_hugepage_size(choices.hugepage_size);
  typename Policy::Options result{};
  // A policy that fills memory of its own takes the memory choices.
  if constexpr (requires(typename Policy::Options& options) {
                  options.memory.hugepage_size;
                  options.memory.allow_fallback;
                }) {
    result.memory.hugepage_size = hugepage_size;
    result.memory.allow_fallback = !choices.no_fallback;
  }
  return result;
}

}  // namespace pagoda::mapping
