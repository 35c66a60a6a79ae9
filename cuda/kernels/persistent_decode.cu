// The launcher of kernels::persistent_decode: the one place the model's main
// format becomes the kernel's template argument (kernels and notes:
// include/pagoda/kernels/persistent_decode.cuh).
#include <pagoda/kernels/persistent_decode_streams.cuh>

#include <string>
#include <type_traits>

#include <pagoda/kernels/cuda_check.hpp>

namespace pagoda::kernels::persistent {

namespace {

constexpr std::string_view operation = "kernels::persistent::launch";

template <class Fn>
decltype(auto) with_main(gguf::TensorType main_format, Fn&& fn) {
  using Result = decltype(fn(type_tag<quant::Q4_0>{}));
  if constexpr (std::is_void_v<Result>) {
    if (!quant::visit_field_stream_format(main_format, fn))
      fail_precondition(operation, "the main format has the field-streams layout");
  } else {
    Result result{};
    if (!quant::visit_field_stream_format(main_format, [&](auto tag) { result = fn(tag); }))
      fail_precondition(operation, "the main format has the field-streams layout");
    return result;
  }
}

}  // namespace

std::size_t max_dynamic_shared(gguf::TensorType main_format) {
  return with_main(main_format,
                   [&](auto tag) { return MainKernel<typename decltype(tag)::type>::max_dynamic_shared(); });
}

int resident_blocks_per_sm(gguf::TensorType main_format, std::size_t shared) {
  return with_main(main_format,
                   [&](auto tag) { return MainKernel<typename decltype(tag)::type>::resident(shared); });
}

void launch(const Program& program, gguf::TensorType main_format, std::size_t shared, unsigned grid,
            cudaStream_t stream) {
  require(program.items != nullptr && program.ops != nullptr && program.signals != nullptr &&
              program.counters != nullptr && program.epoch != nullptr && program.exited != nullptr &&
              program.tickets != nullptr && program.position != nullptr,
          operation, "the program's lists, counters and position are not null");
  require(grid > 0, operation, "the grid has at least one block");
  require(program.stage_bytes == 0 || (program.stage_offset % 128 == 0 && program.stage_bytes % 128 == 0 &&
                                       program.stage_offset + 2 * std::size_t{program.stage_bytes} <= shared),
          operation, "the weight stages are 128-aligned and lie inside the block's shared memory");
  require(program.op_count == 0 ||
              (program.ops_offset % 16 == 0 && program.ops_offset + std::size_t{program.op_count} * sizeof(Op) <= shared),
          operation, "the ops' copy is 16-aligned and lies inside the block's shared memory");
  with_main(main_format, [&](auto tag) {
    MainKernel<typename decltype(tag)::type>::launch(program, shared, grid, stream);
  });
}

}  // namespace pagoda::kernels::persistent
