// The mapping policies as plain runtime values, and what host code knows about
// each: its names, where its weights live and how selection assesses it. The
// policy *types* (mapping/device_copy.hpp, ...) use CUDA and are listed in
// mapping/policy_list.hpp; each derives from its facts below, so `P::name`,
// `P::residence` and `P::assess` are the policy's own, and code built without
// CUDA (selection, the command line, reports) reads the same facts through
// `policy_facts`. Nothing else restates them: no switch over PolicyId.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "pagoda/core/type_list.hpp"

namespace pagoda::mapping {

enum class PolicyId : std::uint8_t { device_copy, host_registered, hmm_direct, hugepage_import };

// Where a policy's weight bytes live; known at compile time for each policy.
enum class Residence : std::uint8_t { device, host };

struct Capabilities;
struct SelectionAssumptions;
struct Feasibility;

// Each facts type: the id, the name on the command line and in reports, the
// C++ type's name, the `--mapping` short name, the residence, and
//   assess(caps, model bytes, KV-cache bytes, assumptions): can it work on a
//   present device? (src/mapping/selection.cpp; names the missing capability)
struct DeviceCopyFacts {
  using facts = DeviceCopyFacts;
  static constexpr PolicyId id = PolicyId::device_copy;
  static constexpr std::string_view name = "device-copy";
  static constexpr std::string_view type_name = "DeviceCopy";
  static constexpr std::string_view short_name = "device";
  static constexpr Residence residence = Residence::device;
  [[nodiscard]] static Feasibility assess(const Capabilities& caps, std::uint64_t model_bytes,
                                          std::uint64_t kv_cache_bytes, const SelectionAssumptions& assumptions);
};

struct HostRegisteredFacts {
  using facts = HostRegisteredFacts;
  static constexpr PolicyId id = PolicyId::host_registered;
  static constexpr std::string_view name = "host-registered";
  static constexpr std::string_view type_name = "HostRegistered";
  static constexpr std::string_view short_name = "host";
  static constexpr Residence residence = Residence::host;
  [[nodiscard]] static Feasibility assess(const Capabilities& caps, std::uint64_t model_bytes,
                                          std::uint64_t kv_cache_bytes, const SelectionAssumptions& assumptions);
};

struct HmmDirectFacts {
  using facts = HmmDirectFacts;
  static constexpr PolicyId id = PolicyId::hmm_direct;
  static constexpr std::string_view name = "hmm-direct";
  static constexpr std::string_view type_name = "HmmDirect";
  static constexpr std::string_view short_name = "hmm";
  static constexpr Residence residence = Residence::host;
  [[nodiscard]] static Feasibility assess(const Capabilities& caps, std::uint64_t model_bytes,
                                          std::uint64_t kv_cache_bytes, const SelectionAssumptions& assumptions);
};

struct HugepageImportFacts {
  using facts = HugepageImportFacts;
  static constexpr PolicyId id = PolicyId::hugepage_import;
  static constexpr std::string_view name = "hugepage-import";
  static constexpr std::string_view type_name = "HugepageImport";
  static constexpr std::string_view short_name = "hugepage";
  static constexpr Residence residence = Residence::host;
  [[nodiscard]] static Feasibility assess(const Capabilities& caps, std::uint64_t model_bytes,
                                          std::uint64_t kv_cache_bytes, const SelectionAssumptions& assumptions);
};

// In the order of mapping::policies (policy_list.hpp checks that the two agree).
using policy_facts = type_list<DeviceCopyFacts, HostRegisteredFacts, HmmDirectFacts, HugepageImportFacts>;

namespace detail {

template <class... Fs>
constexpr std::array<PolicyId, sizeof...(Fs)> ids_of(type_list<Fs...>) {
  return {Fs::id...};
}

}  // namespace detail

inline constexpr auto all_policy_ids = detail::ids_of(policy_facts{});

// Calls fn(type_tag<F>{}) for the facts F of policy `id`; false when no policy
// has that id (a value cast from outside the enum).
template <class Fn>
constexpr bool visit_policy_facts(PolicyId id, Fn&& fn) {
  return visit_first(
      policy_facts{}, [id](auto tag) { return decltype(tag)::type::id == id; }, fn);
}

// "device-copy", "host-registered", "hmm-direct", "hugepage-import".
[[nodiscard]] constexpr std::string_view name_of(PolicyId id) {
  std::string_view name = "unknown-policy";
  visit_policy_facts(id, [&](auto tag) { name = decltype(tag)::type::name; });
  return name;
}

// The C++ type's name: "DeviceCopy", ...
[[nodiscard]] constexpr std::string_view type_name_of(PolicyId id) {
  std::string_view name = "UnknownPolicy";
  visit_policy_facts(id, [&](auto tag) { name = decltype(tag)::type::type_name; });
  return name;
}

// Where a policy puts the weights (device for DeviceCopy, host otherwise).
[[nodiscard]] constexpr Residence residence_of(PolicyId id) {
  Residence residence = Residence::host;
  visit_policy_facts(id, [&](auto tag) { residence = decltype(tag)::type::residence; });
  return residence;
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
