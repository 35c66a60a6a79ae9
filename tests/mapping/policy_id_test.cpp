// Policy names: the same words on the command line, in reports and in errors.
#include <doctest/doctest.h>

#include "pagoda/core/error.hpp"
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
