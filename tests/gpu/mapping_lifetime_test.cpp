// Each policy releases everything it acquired: constructed and destroyed 20
// times, device memory returns to where it was (cudaMemGetInfo) and so does
// the process's list of mappings (/proc/self/maps). A registration that
// outlived its policy would also make the next construction fail: a range
// cannot be registered twice.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>

#include "mapping_support.hpp"
#include "quant/random_blocks.hpp"
#include "support/skip.hpp"

using namespace pagoda;
using namespace pagoda::mapping;
using namespace pagoda::mapping::gpu_testing;

namespace {

std::size_t mapping_count() {
  std::ifstream maps("/proc/self/maps");
  std::size_t lines = 0;
  for (std::string line; std::getline(maps, line);) ++lines;
  return lines;
}

}  // namespace

// One case per policy, so that a policy this device cannot run is skipped by name.
TEST_CASE_TEMPLATE_DEFINE("constructing then destroying a policy 20 times leaks neither device memory nor mappings",
                          P, policy_lifetime_id) {
  const MappedTestModel model;
  const Capabilities caps = probe();
  CAPTURE(name_of(P::id));
  if (const Feasibility f = expected_feasibility(P::id, caps, model.tensor_bytes()); !f.possible)
    PAGODA_SKIP(std::string(name_of(P::id)) + " cannot work on this device (" + f.reason + ")");
  { const P warm_up(*model.file, test_options<P>()); }  // lazily created driver state is not a leak
  const std::int64_t vram_before = free_vram();
  const std::size_t mappings_before = mapping_count();
  for (int i = 0; i < 20; ++i) {
    const P policy(*model.file, test_options<P>());
    CHECK(policy.device_pointer(model.file->gguf().tensors().front()) != nullptr);
  }
  CHECK(free_vram() >= vram_before - 2 * mib);
  CHECK(mapping_count() <= mappings_before + 2);
}
TEST_CASE_TEMPLATE_APPLY(policy_lifetime_id, quant::testing::as_tuple<policies>::type);

TEST_CASE("a moved-from policy releases nothing twice; the moved-to one keeps working") {
  const MappedTestModel model(PageCache::base_pages, {.alignment = 32});
  const std::int64_t before = free_vram();
  {
    DeviceCopy first(*model.file);
    DeviceCopy second = std::move(first);
    const auto& tensor = model.file->gguf().tensors().front();
    CHECK(bytes_through(second, tensor) == std::vector<std::byte>(tensor.bytes.begin(), tensor.bytes.end()));
  }
  CHECK(free_vram() >= before - 2 * mib);
}
