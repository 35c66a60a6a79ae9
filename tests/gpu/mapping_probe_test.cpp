// The device probe on a real GPU, and what selection makes of it.
#include <doctest/doctest.h>

#include <iostream>

#include "mapping_support.hpp"

using namespace pagoda::mapping;

TEST_CASE("the device probe reads a present device with sane memory figures") {
  const DeviceCapabilities device = probe_device(0);
  REQUIRE(device.present);
  CHECK_FALSE(device.name.empty());
  CHECK(device.compute_major >= 7);
  CHECK(device.total_vram_bytes > 0);
  CHECK(device.free_vram_bytes <= device.total_vram_bytes);
  // ATS implies pageable access.
  CHECK((!device.pageable_memory_access_uses_host_page_tables || device.pageable_memory_access));
  std::cout << describe(device) << "\n" << describe(probe_os()) << "\n";
}

TEST_CASE("a device that does not exist is absent, with the reason") {
  const DeviceCapabilities missing = probe_device(1000);
  CHECK_FALSE(missing.present);
  CHECK(missing.absent_reason.find("device 1000 requested") != std::string::npos);
}

TEST_CASE("selection on this machine: a small model on a discrete GPU is copied, never silently") {
  const Capabilities caps = probe();
  const Selection selection = select_policy(caps, 100u << 20, 64u << 20, {});
  std::cout << to_string(selection) << "\n";
  if (!caps.device.integrated) CHECK(selection.policy == PolicyId::device_copy);
  else CHECK(selection.policy != PolicyId::device_copy);
}
