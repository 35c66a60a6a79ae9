// The persistent decode kernel for head_dim 129..256 (32 attention lanes per K/V row).
#include "persistent_decode_lanes.cuh"

namespace pagoda::kernels::persistent {

template struct LanesKernel<32>;

}  // namespace pagoda::kernels::persistent
