// The launcher of kernels::rms_norm (the kernel and its notes: norm.cuh).
#include <pagoda/kernels/norm.cuh>

#include <string>

#include <pagoda/kernels/cuda_check.hpp>

namespace pagoda::kernels {

namespace {

template <class Out>
void launch_rms_norm(const float* x, const float* weight, Out* out, std::size_t rows, std::size_t dim, float eps,
                     cudaStream_t stream) {
  constexpr std::string_view operation = "kernels::rms_norm";
  if (rows == 0 || dim == 0) return;
  require(x != nullptr && weight != nullptr && out != nullptr, operation, "x, weight and out are not null");
  require(rows <= 0x7fffffffu, operation, "rows (" + std::to_string(rows) + ") fit one grid");
  require(eps >= 0.0f, operation, "eps is not negative");
  constexpr NormPolicy policy = norm_policy;
  rms_norm_kernel<policy.threads, Out>
      <<<static_cast<unsigned>(rows), policy.threads, 0, stream>>>(x, weight, out, dim, eps);
  check_launch(operation);
}

}  // namespace

void rms_norm(const float* x, const float* weight, float* out, std::size_t rows, std::size_t dim, float eps,
              cudaStream_t stream) {
  launch_rms_norm(x, weight, out, rows, dim, eps, stream);
}

void rms_norm(const float* x, const float* weight, __half* out, std::size_t rows, std::size_t dim, float eps,
              cudaStream_t stream) {
  launch_rms_norm(x, weight, out, rows, dim, eps, stream);
}

}  // namespace pagoda::kernels
