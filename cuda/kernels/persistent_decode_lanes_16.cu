// The persistent decode kernel for head_dim 65..128 (16 attention lanes per K/V row).
#include "persistent_decode_lanes.cuh"

namespace pagoda::kernels::persistent {

template struct LanesKernel<16>;

}  // namespace pagoda::kernels::persistent
