// The throwing half of the kernel launchers' error checks, compiled by the host
// compiler: nvcc cannot compile the fmt headers behind pagoda::fail. Takes the
// CUDA error's name and text as strings, so pagoda_host needs no CUDA headers.
#include <string_view>

#include <pagoda/core/error.hpp>

namespace pagoda::kernels {

void fail_cuda(std::string_view operation, const char* error_name, const char* error_string) {
  fail("{}: CUDA error {} ({})", operation, error_name, error_string);
}

void fail_precondition(std::string_view operation, std::string_view requirement) {
  fail("{}: precondition violated: {}", operation, requirement);
}

}  // namespace pagoda::kernels
