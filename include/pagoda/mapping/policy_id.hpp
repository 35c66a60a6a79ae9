// The names of pagoda's mapping policies and of where weights can live, as
// plain runtime values: what a capability probe, a selection, a report and a
// command line talk about. The policy *types* live in their own headers and
// are listed once in mapping/policy_list.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pagoda::mapping {

enum class PolicyId : std::uint8_t { device_copy, host_registered, hmm_direct, hugepage_import };

inline constexpr std::array<PolicyId, 4> all_policy_ids{
    PolicyId::device_copy, PolicyId::host_registered, PolicyId::hmm_direct,
    PolicyId::hugepage_import};

// Where a policy's weight bytes live; known at compile time for each policy.
enum class Residence : std::uint8_t { device, host };

// "device-copy", "host-registered", "hmm-direct", "hugepage-import".
[[nodiscard]] constexpr std::string_view name_of(PolicyId id) {
  switch (id) {
    case PolicyId::device_copy: return "device-copy";
    case PolicyId::host_registered: return "host-registered";
    case PolicyId::hmm_direct: return "hmm-direct";
    case PolicyId::hugepage_import: return "hugepage-import";
  }
  return "unknown-policy";
}

// The C++ type's name: "DeviceCopy", ...
[[nodiscard]] constexpr std::string_view type_name_of(PolicyId id) {
  switch (id) {
    case PolicyId::device_copy: return "DeviceCopy";
    case PolicyId::host_registered: return "HostRegistered";
    case PolicyId::hmm_direct: return "HmmDirect";
    case PolicyId::hugepage_import: return "HugepageImport";
  }
  return "UnknownPolicy";
}

[[nodiscard]] constexpr std::string_view name_of(Residence residence) {
  return residence == Residence::device ? "device" : "host";
}

// Parses a user's choice: "auto" gives nullopt; a policy by its name above
// or by the short name of the command-line flag (`--mapping
// auto|device|host|hmm|hugepage`). Throws pagoda::Error listing the accepted
// names otherwise.
[[nodiscard]] std::optional<PolicyId> parse_policy_choice(std::string_view text);

}  // namespace pagoda::mapping
