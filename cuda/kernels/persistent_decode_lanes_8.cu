// The persistent decode kernel for head_dim <= 64 (8 attention lanes per K/V row).
#include "persistent_decode_lanes.cuh"

namespace pagoda::kernels::persistent {

template struct LanesKernel<8>;

}  // namespace pagoda::kernels::persistent
