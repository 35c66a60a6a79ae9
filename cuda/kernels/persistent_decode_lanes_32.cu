// The persistent decode kernel for head_dim 129..256 (32 attention lanes per K/V row).
#include "persistent_decode_lanes.cuh"

namespace pagoda::kernels::persistent {

template <>
int LanesKernel<32>::resident(std::size_t shared) {
  return detail::resident<32>(shared);
}

template <>
void LanesKernel<32>::launch(const Program& program, std::size_t shared, unsigned grid, cudaStream_t stream) {
  detail::launch<32>(program, shared, grid, stream);
}

}  // namespace pagoda::kernels::persistent
