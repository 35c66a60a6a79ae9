// The instantiations of kernels::gemv_streams_fused_rope_kv_pair: one per
// pair of kernels::gemv_streams_pairs (the header checks the list matches).
#include <pagoda/kernels/gemv_streams_pair.cuh>

namespace pagoda::kernels {

template void gemv_streams_fused_rope_kv_pair<quant::Q4_K, quant::Q6_K>(std::span<const GemvTarget>,
                                                                       std::span<const GemvTarget>, std::size_t,
                                                                       const float*, RmsNormFirst,
                                                                       const RopeKvAppend&, const DeviceInfo&,
                                                                       cudaStream_t);
template void gemv_streams_fused_rope_kv_pair<quant::Q5_K, quant::Q6_K>(std::span<const GemvTarget>,
                                                                       std::span<const GemvTarget>, std::size_t,
                                                                       const float*, RmsNormFirst,
                                                                       const RopeKvAppend&, const DeviceInfo&,
                                                                       cudaStream_t);

static_assert(std::tuple_size_v<gemv_streams_pairs> == 2, "every listed pair is instantiated above");

}  // namespace pagoda::kernels
