// The one list of mapping policies, and the one place where a policy chosen
// at run time (by select_policy or the user) becomes a type:
//   visit_policy(selection.policy, [&](auto tag) { using P = typename decltype(tag)::type; ... });
// Adding a policy is its header, its PolicyId, its facts (policy_id.hpp) and
// one entry below.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include "pagoda/core/error.hpp"
#include "pagoda/core/type_list.hpp"
#include "pagoda/mapping/device_copy.hpp"
#include "pagoda/mapping/hmm_direct.hpp"
#include "pagoda/mapping/host_registered.hpp"
#include "pagoda/mapping/hugepage_import.hpp"
#include "pagoda/mapping/policy.hpp"
#include "pagoda/mapping/policy_id.hpp"

namespace pagoda::mapping {

using policies = type_list<DeviceCopy, HostRegistered, HmmDirect, HugepageImport>;

namespace detail {

template <class... Ps>
constexpr bool check_policies(type_list<Ps...>) {
  static_assert((MappingPolicy<Ps> && ...), "every listed policy satisfies mapping::MappingPolicy");
  // The host-only facts (policy_id.hpp) are the policies' own, in the same order.
  static_assert(std::is_same_v<policy_facts, type_list<typename Ps::facts...>>,
                "mapping::policy_facts lists each policy's facts, in the order of mapping::policies");
  static_assert((std::is_base_of_v<typename Ps::facts, Ps> && ...), "each policy derives from its facts");
  constexpr std::array<PolicyId, sizeof...(Ps)> ids{Ps::id...};
  // Every PolicyId exactly once: as many entries as ids, none repeated.
  if (ids.size() != all_policy_ids.size()) return false;
  for (std::size_t i = 0; i < ids.size(); ++i)
    for (std::size_t j = i + 1; j < ids.size(); ++j)
      if (ids[i] == ids[j]) return false;
  return true;
}

}  // namespace detail

static_assert(detail::check_policies(policies{}), "mapping::policies lists each PolicyId exactly once");

// Calls fn(type_tag<P>{}) for the policy P whose id is `id` and returns its
// result (the same type for every policy).
template <class Fn>
decltype(auto) visit_policy(PolicyId id, Fn&& fn) {
  return visit_matching(
      policies{}, [id](auto tag) { return decltype(tag)::type::id == id; }, fn,
      [id] { throw Error("unknown mapping policy id " + std::to_string(static_cast<int>(id))); });
}

}  // namespace pagoda::mapping
