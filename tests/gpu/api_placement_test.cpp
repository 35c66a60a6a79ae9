// pagoda::load's placement, as the public API hands it out: the CUDA engine's
// report as a value (the same the one-line summary is made from), none on the
// CPU reference path.
#include <doctest/doctest.h>

#include <cstdint>

#include "pagoda/mapping/policy_id.hpp"
#include "pagoda/pagoda.hpp"
#include "support/real_model.hpp"

using namespace pagoda;

TEST_CASE("Model::placement_report is the CUDA engine's report: every tensor byte placed by the chosen policy") {
  auto model = load(test::require_default_model(), {.engine = {.context_size = 256}});
  REQUIRE(model.engine().on_gpu());
  const auto report = model.placement_report();
  REQUIRE(report.has_value());

  std::uint64_t tensor_bytes = 0;
  for (const auto& tensor : model.gguf().tensors()) tensor_bytes += tensor.byte_size;
  CHECK(report->tensor_bytes == tensor_bytes);
  // The one-line summary names the same policy the report holds.
  CHECK(model.placement().starts_with(std::string(mapping::name_of(report->policy))));
}

TEST_CASE("Model::placement_report is empty on the CPU reference path, which places nothing") {
  auto model = load(test::require_default_model(), {.cpu = true, .engine = {.context_size = 256}});
  CHECK_FALSE(model.engine().on_gpu());
  CHECK_FALSE(model.placement_report().has_value());
}
