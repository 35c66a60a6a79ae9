// The out-of-line half of runtime/cuda_raii.hpp: turning a CUDA status into
// a pagoda::Error.
// nvcc cannot parse fmt (see pagoda/core/error.hpp): messages are built
// with std::string here and in the other cuda/mapping_*.cu units.

#include <string>

#include "pagoda/core/error.hpp"
#include "pagoda/runtime/cuda_raii.hpp"

namespace pagoda::runtime {

std::string cuda_error_text(cudaError_t status) {
  return std::string(cudaGetErrorName(status)) + " (" + cudaGetErrorString(status) + ")";
}

void fail_cuda_call(std::string_view call, cudaError_t status, std::string_view context) {
  cudaGetLastError();  // a non-sticky error would otherwise surface at the next, unrelated call
  std::string message = std::string(call) + " failed: " + cuda_error_text(status);
  if (!context.empty()) message.append(" [").append(context).append("]");
  throw Error(message);
}

}  // namespace pagoda::runtime
