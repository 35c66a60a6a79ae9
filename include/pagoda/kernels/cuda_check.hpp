// Checking kernel launches and launcher preconditions from code nvcc compiles;
// the status check itself is pagoda::check_cuda (core/cuda_check.hpp). The
// throwing half lives in src/core/cuda_error.cpp (host compiler), because nvcc
// cannot parse the fmt headers behind pagoda::fail.
#pragma once

#include <string_view>

#include <cuda_runtime_api.h>

#include <pagoda/core/cuda_check.hpp>

namespace pagoda::kernels {

[[noreturn]] void fail_precondition(std::string_view operation, std::string_view requirement);

// After a <<<...>>> launch: throws if the launch failed.
inline void check_launch(std::string_view operation) { check_cuda(cudaGetLastError(), operation); }

// Throws a precondition error unless `holds`.
inline void require(bool holds, std::string_view operation, std::string_view requirement) {
  if (!holds) fail_precondition(operation, requirement);
}

}  // namespace pagoda::kernels
