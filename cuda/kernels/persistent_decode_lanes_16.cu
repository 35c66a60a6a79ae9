// The persistent decode kernel for head_dim 65..128 (16 attention lanes per K/V row).
#include "persistent_decode_lanes.cuh"

namespace pagoda::kernels::persistent {

template <>
int LanesKernel<16>::resident(std::size_t shared) {
  return detail::resident<16>(shared);
}

template <>
void LanesKernel<16>::launch(const Program& program, std::size_t shared, unsigned grid, cudaStream_t stream) {
  detail::launch<16>(program, shared, grid, stream);
}

}  // namespace pagoda::kernels::persistent
