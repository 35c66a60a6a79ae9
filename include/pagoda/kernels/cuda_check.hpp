// Checking CUDA calls and launches from code nvcc compiles. The throwing half
// lives in src/kernels/cuda_error.cpp (host compiler), because nvcc cannot
// parse the fmt headers behind pagoda::fail; errors are pagoda::Error with the
// operation, the CUDA error's name and its text.
#pragma once

#include <string_view>

#include <cuda_runtime_api.h>

namespace pagoda::kernels {

[[noreturn]] void fail_cuda(std::string_view operation, const char* error_name, const char* error_string);
[[noreturn]] void fail_precondition(std::string_view operation, std::string_view requirement);

// Throws when `status` is not cudaSuccess.
inline void check_cuda(cudaError_t status, std::string_view operation) {
  if (status != cudaSuccess) fail_cuda(operation, cudaGetErrorName(status), cudaGetErrorString(status));
}

// After a <<<...>>> launch: throws if the launch failed.
inline void check_launch(std::string_view operation) { check_cuda(cudaGetLastError(), operation); }

// Throws a precondition error unless `holds`.
inline void require(bool holds, std::string_view operation, std::string_view requirement) {
  if (!holds) fail_precondition(operation, requirement);
}

}  // namespace pagoda::kernels
