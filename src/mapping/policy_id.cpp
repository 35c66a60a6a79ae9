#include "pagoda/mapping/policy_id.hpp"

#include <utility>

#include "pagoda/core/error.hpp"

namespace pagoda::mapping {

std::optional<PolicyId> parse_policy_choice(std::string_view text) {
  if (text == "auto") return std::nullopt;
  // The command line's short names (issue 3: --mapping auto|device|host|hmm|hugepage).
  static constexpr std::pair<std::string_view, PolicyId> short_names[] = {
      {"device", PolicyId::device_copy},
      {"host", PolicyId::host_registered},
      {"hmm", PolicyId::hmm_direct},
      {"hugepage", PolicyId::hugepage_import},
  };
  for (PolicyId id : all_policy_ids)
    if (text == name_of(id)) return id;
  for (const auto& [name, id] : short_names)
    if (text == name) return id;
  fail("unknown mapping policy `{}`; expected auto, device-copy (device), host-registered (host), "
       "hmm-direct (hmm) or hugepage-import (hugepage)",
       text);
}

}  // namespace pagoda::mapping
