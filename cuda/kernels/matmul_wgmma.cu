// Where the wgmma prefill GEMM can run (kernels/matmul_wgmma_streams.cuh).
#include <string>

#include <cuda_runtime_api.h>

#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/matmul_wgmma_streams.cuh>

namespace pagoda::kernels {

bool wgmma_built() {
#if defined(PAGODA_CUDA_SM90A)
  return true;
#else
  return false;
#endif
}

bool wgmma_runs_on(int device) {
  if (!wgmma_built()) return false;
  int major = 0;
  int minor = 0;
  const std::string operation = "kernels::wgmma_runs_on(device " + std::to_string(device) + ")";
  check_cuda(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), operation);
  check_cuda(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device), operation);
  return major == 9 && minor == 0;
}

}  // namespace pagoda::kernels
