// The throwing half of pagoda/core/cuda_check.hpp and of the kernel launchers'
// precondition checks, compiled by the host compiler: nvcc cannot compile the
// fmt headers behind pagoda::fail. Takes the CUDA error's name and text as
// strings, so pagoda_host needs no CUDA headers.
#include <string_view>

#include <pagoda/core/error.hpp>

namespace pagoda {

void fail_cuda(std::string_view operation, const char* error_name, const char* error_string,
               std::string_view context) {
  if (context.empty()) fail("{} failed: {} ({})", operation, error_name, error_string);
  fail("{} failed: {} ({}) [{}]", operation, error_name, error_string, context);
}

namespace kernels {

void fail_precondition(std::string_view operation, std::string_view requirement) {
  fail("{}: precondition violated: {}", operation, requirement);
}

}  // namespace kernels

}  // namespace pagoda
