// The one place where a matrix's runtime format becomes kernel instantiations.
#include "pagoda/runtime/device_matrix.hpp"

#include "pagoda/kernels/embedding.cuh"
#include "pagoda/kernels/gemv_q.cuh"
#include "pagoda/kernels/matmul_q.cuh"
#include "pagoda/quant/format_list.hpp"

namespace pagoda::runtime {

DeviceMatrix bind_device_matrix(const gguf::TensorInfo& tensor, const std::byte* device_data) {
  DeviceMatrix matrix{.info = &tensor, .data = device_data, .rows = tensor.rows(), .cols = tensor.dims[0]};
  quant::visit_format(tensor.type, [&](auto tag) {
    using Format = typename decltype(tag)::type;
    matrix.gemv = &kernels::gemv_q<Format>;
    matrix.matmul = &kernels::matmul_q<Format>;
    matrix.embedding = &kernels::embedding<Format>;
  });
  return matrix;
}

}  // namespace pagoda::runtime
