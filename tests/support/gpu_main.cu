// main() of every GPU test executable: where no CUDA device is usable it says
// so and exits 77, which ctest reports as "skipped" — never as passed. A case
// that cannot run on this device (PAGODA_SKIP, support/skip.hpp) is reported
// skipped, with its reason, by the skip-aware reporter made default here.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include <cuda_runtime.h>

#include "support/skip_reporter.hpp"

int main(int argc, char** argv) {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "SKIPPED: no usable CUDA device (%s); the GPU tests did not run.\n",
                 status != cudaSuccess ? cudaGetErrorName(status) : "device count is 0");
    return 77;
  }
  doctest::Context context;
  pagoda::test::use_skip_aware_reporter(context, argc, argv);
  context.applyCommandLine(argc, argv);
  return context.run();
}
