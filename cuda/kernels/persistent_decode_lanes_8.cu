// The persistent decode kernel for head_dim <= 64 (8 attention lanes per K/V row).
#include "persistent_decode_lanes.cuh"

namespace pagoda::kernels::persistent {

template <>
int LanesKernel<8>::resident(std::size_t shared) {
  return detail::resident<8>(shared);
}

template <>
void LanesKernel<8>::launch(const Program& program, std::size_t shared, unsigned grid, cudaStream_t stream) {
  detail::launch<8>(program, shared, grid, stream);
}

}  // namespace pagoda::kernels::persistent
