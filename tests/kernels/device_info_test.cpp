// kernels::DeviceInfo made from properties already known (no CUDA call): which
// launch features it grants on which device, and what makes two of them the
// same description. The driver queries and the per-kernel record are the GPU
// suite's (tests/gpu/device_info_test.cu).
#include <doctest/doctest.h>

#include "pagoda/kernels/device_info.hpp"

using namespace pagoda;

namespace {

kernels::DeviceProperties h100() {
  return {.ordinal = 0, .compute_capability = 90, .multiprocessors = 132, .max_shared_optin = 232448,
          .wgmma_code = true};
}

}  // namespace

TEST_CASE("DeviceInfo reports the properties it was made from") {
  const kernels::DeviceInfo device(h100(), true);
  CHECK(device.device() == 0);
  CHECK(device.compute_capability() == 90);
  CHECK(device.multiprocessors() == 132);
  CHECK(device.max_shared_optin() == 232448);
  CHECK(device.properties() == h100());
}

TEST_CASE("DeviceInfo grants programmatic dependent launch only where asked and from compute capability 9.0") {
  static_assert(kernels::programmatic_launch_supported(90) && kernels::programmatic_launch_supported(100));
  static_assert(!kernels::programmatic_launch_supported(89) && !kernels::programmatic_launch_supported(80));
  CHECK(kernels::DeviceInfo(h100(), true).programmatic_launch());
  CHECK_FALSE(kernels::DeviceInfo(h100(), false).programmatic_launch());  // EngineOptions / --no-pdl said no
  kernels::DeviceProperties ada = h100();
  ada.compute_capability = 89;
  CHECK_FALSE(kernels::DeviceInfo(ada, true).programmatic_launch());  // asked for, but the device has none
}

TEST_CASE("DeviceInfo says wgmma runs only on compute capability 9.0 exactly, with sm_90a code built") {
  CHECK(kernels::DeviceInfo(h100(), true).wgmma());
  kernels::DeviceProperties no_code = h100();
  no_code.wgmma_code = false;
  CHECK_FALSE(kernels::DeviceInfo(no_code, true).wgmma());
  for (const int later : {89, 100, 120}) {  // sm_90a code runs on no other device
    kernels::DeviceProperties other = h100();
    other.compute_capability = later;
    CAPTURE(later);
    CHECK_FALSE(kernels::DeviceInfo(other, true).wgmma());
  }
}

TEST_CASE("two DeviceInfo values are equal when they describe the same device with the same launch choice") {
  const kernels::DeviceInfo one(h100(), true);
  const kernels::DeviceInfo copy = one;  // shares the record of kernels already set up
  CHECK(copy == one);
  CHECK(kernels::DeviceInfo(h100(), true) == one);  // made apart, same description
  CHECK_FALSE(kernels::DeviceInfo(h100(), false) == one);
  kernels::DeviceProperties second = h100();
  second.ordinal = 1;
  CHECK_FALSE(kernels::DeviceInfo(second, true) == one);
}
