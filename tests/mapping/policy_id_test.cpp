// Policy names: the same words on the command line, in reports and in errors.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>

#include "pagoda/core/error.hpp"
#include "pagoda/core/type_list.hpp"
#include "pagoda/mapping/policy_id.hpp"

using namespace pagoda::mapping;

TEST_CASE("policy names round-trip, and the flag's short names are accepted") {
  for (PolicyId id : all_policy_ids) CHECK(parse_policy_choice(name_of(id)) == id);
  CHECK(parse_policy_choice("auto") == std::nullopt);
  CHECK(parse_policy_choice("device") == PolicyId::device_copy);
  CHECK(parse_policy_choice("host") == PolicyId::host_registered);
  CHECK(parse_policy_choice("hmm") == PolicyId::hmm_direct);
  CHECK(parse_policy_choice("hugepage") == PolicyId::hugepage_import);
  CHECK(name_of(PolicyId::hugepage_import) == "hugepage-import");
  CHECK(type_name_of(PolicyId::hmm_direct) == "HmmDirect");
}

TEST_CASE("an unknown policy name is an error listing the accepted ones") {
  CHECK_THROWS_WITH_AS((void)parse_policy_choice("gpu"), doctest::Contains("device-copy"), pagoda::Error);
  CHECK_THROWS_AS((void)parse_policy_choice(""), pagoda::Error);
  CHECK_THROWS_AS((void)parse_policy_choice("Auto"), pagoda::Error);
}

TEST_CASE("each policy's facts give its names and residence, read by id through one fold") {
  std::set<std::string_view> names;
  std::set<std::string_view> short_names;
  pagoda::for_each_type(policy_facts{}, [&](auto tag) {
    using F = typename decltype(tag)::type;
    CAPTURE(F::name);
    CHECK(name_of(F::id) == F::name);
    CHECK(type_name_of(F::id) == F::type_name);
    CHECK(residence_of(F::id) == F::residence);
    CHECK(parse_policy_choice(F::short_name) == F::id);
    names.insert(F::name);
    short_names.insert(F::short_name);
  });
  CHECK(names.size() == all_policy_ids.size());
  CHECK(short_names.size() == all_policy_ids.size());
  // Only the copy lives in VRAM; the zero-copy policies leave the weights on the host.
  CHECK(residence_of(PolicyId::device_copy) == Residence::device);
  CHECK(residence_of(PolicyId::host_registered) == Residence::host);
  CHECK(residence_of(PolicyId::hmm_direct) == Residence::host);
  CHECK(residence_of(PolicyId::hugepage_import) == Residence::host);
  static_assert(all_policy_ids.size() == 4 && all_policy_ids[0] == PolicyId::device_copy);
}

TEST_CASE("an id outside the enum has no facts: the fold says so instead of choosing one") {
  const auto bogus = static_cast<PolicyId>(200);
  CHECK_FALSE(visit_policy_facts(bogus, [](auto) {}));
  CHECK(name_of(bogus) == "unknown-policy");
  CHECK(type_name_of(bogus) == "UnknownPolicy");
}

TEST_CASE("the unknown-name error lists every policy with its short name") {
  pagoda::for_each_type(policy_facts{}, [](auto tag) {
    using F = typename decltype(tag)::type;
    const std::string listed = std::string(F::name) + " (" + std::string(F::short_name) + ")";
    CHECK_THROWS_WITH_AS((void)parse_policy_choice("nvme"), doctest::Contains(listed.c_str()), pagoda::Error);
  });
}
