// Which formats take gemv_q's staged path: exactly those listed in
// kernels::gemv_staged_formats (x16_dot_q.cuh checks, where gemv_q is
// instantiated, that each has its X16Dot and no other format has one).
#include <doctest/doctest.h>

#include "pagoda/kernels/gemv_staged_path.hpp"
#include "pagoda/quant/float_formats.hpp"

using namespace pagoda;

TEST_CASE("the staged GEMV path is the listed integer formats' only") {
  static_assert(kernels::gemv_has_staged_path<quant::Q4_0> && kernels::gemv_has_staged_path<quant::Q8_0> &&
                kernels::gemv_has_staged_path<quant::Q4_K> && kernels::gemv_has_staged_path<quant::Q6_K>);
  static_assert(!kernels::gemv_has_staged_path<quant::F32> && !kernels::gemv_has_staged_path<quant::F16> &&
                !kernels::gemv_has_staged_path<quant::Q2_K> && !kernels::gemv_has_staged_path<quant::Q3_K>);
  CHECK(kernels::gemv_staged_formats::size == 8);
  // A format without the path never takes it, whatever its shape and alignment.
  alignas(16) const std::byte weights[16]{};
  CHECK_FALSE(kernels::gemv_takes_staged_path<quant::F32>(weights, 4096));
  CHECK(kernels::gemv_takes_staged_path<quant::Q4_0>(weights, 4096));
}
