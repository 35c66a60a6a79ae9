// Whether this build holds the wgmma prefill GEMM (kernels/matmul_wgmma_streams.cuh);
// DeviceInfo::wgmma says whether a device runs it.
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

}  // namespace pagoda::kernels
