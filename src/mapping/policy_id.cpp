#include "pagoda/mapping/policy_id.hpp"

#include <string>

#include "pagoda/core/error.hpp"

namespace pagoda::mapping {

std::optional<PolicyId> parse_policy_choice(std::string_view text) {
  if (text == "auto") return std::nullopt;
  std::optional<PolicyId> parsed;
  std::string accepted = "auto";
  for_each_type(policy_facts{}, [&](auto tag) {
    using F = typename decltype(tag)::type;
    if (text == F::name || text == F::short_name) parsed = F::id;
    accepted.append(", ").append(F::name).append(" (").append(F::short_name).append(")");
  });
  if (parsed) return parsed;
  fail("unknown mapping policy `{}`; expected one of {}", text, accepted);
}

}  // namespace pagoda::mapping
