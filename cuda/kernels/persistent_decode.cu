// The launcher of kernels::persistent_decode: the one place the head size
// becomes the kernel's attention lane count (kernels and notes:
// include/pagoda/kernels/persistent_decode.cuh).
#include <pagoda/kernels/persistent_decode.cuh>

#include <string>

#include "persistent_decode_lanes.cuh"

namespace pagoda::kernels::persistent {

namespace {

constexpr std::string_view operation = "kernels::persistent::launch";

template <class Fn>
decltype(auto) with_lanes(std::uint32_t head_dim, Fn&& fn) {
  switch (attention_lanes(head_dim)) {
    case 8: return fn(LanesKernel<8>{});
    case 16: return fn(LanesKernel<16>{});
    case 32: return fn(LanesKernel<32>{});
    default:
      fail_precondition(operation, "head_dim (" + std::to_string(head_dim) + ") is at most 256");
  }
}

}  // namespace

int resident_blocks_per_sm(std::uint32_t head_dim, std::size_t max_cols) {
  return with_lanes(head_dim, [&](auto kernel) { return decltype(kernel)::resident(shared_bytes(max_cols)); });
}

void launch(const Program& program, std::uint32_t head_dim, std::size_t max_cols, unsigned grid,
            cudaStream_t stream) {
  require(program.items != nullptr && program.ops != nullptr && program.signals != nullptr &&
              program.counters != nullptr && program.epoch != nullptr && program.exited != nullptr && program.tickets != nullptr &&
              program.position != nullptr,
          operation, "the program's lists, counters and position are not null");
  require(grid > 0, operation, "the grid has at least one block");
  with_lanes(head_dim, [&](auto kernel) {
    using Kernel = decltype(kernel);
    Kernel::launch(program, shared_bytes(max_cols), grid, stream);
  });
}

}  // namespace pagoda::kernels::persistent
