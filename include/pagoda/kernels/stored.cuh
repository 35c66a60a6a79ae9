// kernels::stored<Out>: a value computed in f32, stored as Out: f32 as it is,
// or f16 rounded once to nearest (ties to even, as kernels::to_half rounds).
// The kernels that write either (the gated activation, rms_norm, attention's
// merge) give the next product its f16 input with no f32 copy to convert.
#pragma once

#if defined(__CUDACC__)

#include <type_traits>

#include <cuda_fp16.h>

namespace pagoda::kernels {

template <class Out>
__device__ __forceinline__ Out stored(float v) {
  static_assert(std::is_same_v<Out, float> || std::is_same_v<Out, __half>, "f32 or f16");
  if constexpr (std::is_same_v<Out, float>) return v;
  else return __float2half_rn(v);
}

}  // namespace pagoda::kernels

#endif  // __CUDACC__
