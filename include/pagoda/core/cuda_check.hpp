// The one check of a CUDA status, for code nvcc or the host compiler builds:
// a failed call throws pagoda::Error naming the operation, the CUDA error's
// name and text, and the caller's context. The throw lives out of line
// (src/core/cuda_error.cpp, host compiler) because nvcc cannot parse the fmt
// headers behind pagoda::fail; it takes the error's name and text as strings,
// so pagoda_host needs no CUDA headers.
#pragma once

#include <string>
#include <string_view>

#include <cuda_runtime_api.h>

namespace pagoda {

// Throws pagoda::Error: "<operation> failed: <cudaErrorName> (<text>) [<context>]".
[[noreturn]] void fail_cuda(std::string_view operation, const char* error_name, const char* error_string,
                            std::string_view context = {});

// Throws when `status` is not cudaSuccess. Clears the (non-sticky) error state
// first: it would otherwise surface at the next, unrelated call.
inline void check_cuda(cudaError_t status, std::string_view operation, std::string_view context = {}) {
  if (status == cudaSuccess) return;
  cudaGetLastError();
  fail_cuda(operation, cudaGetErrorName(status), cudaGetErrorString(status), context);
}

// "cudaErrorNotSupported (operation not supported)", for reports that keep going.
[[nodiscard]] inline std::string cuda_error_text(cudaError_t status) {
  return std::string(cudaGetErrorName(status)) + " (" + cudaGetErrorString(status) + ")";
}

}  // namespace pagoda
