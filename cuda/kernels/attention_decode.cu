// The launchers of kernels::attention_decode (kernels and notes: attention_decode.cuh).
#include <pagoda/core/type_list.hpp>
#include <pagoda/kernels/attention_decode.cuh>

#include <algorithm>
#include <iterator>
#include <string>
#include <type_traits>
#include <utility>

#include <pagoda/kernels/cuda_check.hpp>

namespace pagoda::kernels {

namespace {

constexpr std::string_view operation = "kernels::attention_decode";
constexpr int merge_threads = tuning::attention_max_splits;
constexpr auto& policies = tuning::attention_decode_policies;
// What every listed policy must meet: the split kernel's static shared
// memory (~40 KiB at 8 heads) stays under 48 KiB. (The merge kernel gives each
// split a thread: tuning::attention_splits caps them at attention_max_splits.)
constexpr bool launchable(const AttentionPolicy& p) {
  return p.tile <= 256 && p.threads <= 128 && p.heads_per_block <= 8 &&
         p.min_split == attention_decode_policy.min_split;
}
static_assert(std::ranges::all_of(policies, launchable), "every listed attention policy can be launched");

void check_shape(const AttentionShape& shape) {
  require(shape.n_kv_heads > 0 && shape.n_heads % shape.n_kv_heads == 0, operation,
          "n_heads (" + std::to_string(shape.n_heads) + ") is a positive multiple of n_kv_heads (" +
              std::to_string(shape.n_kv_heads) + ")");
  require(shape.head_dim % 8 == 0 && shape.head_dim >= 8 && shape.head_dim <= 256, operation,
          "head_dim (" + std::to_string(shape.head_dim) + ") is a multiple of 8 in [8, 256]");
  require(shape.max_context > 0, operation, "max_context is positive");
}

// Both kernels wait (pdl_wait) before they read what the kernel before
// wrote, so they may be programmatic launches where the device has them.
template <AttentionPolicy P, int Lanes>
void launch_split(const float* q, const __half* k_cache, const __half* v_cache, const AttentionShape& shape,
                  std::uint32_t splits, dim3 grid, const std::int32_t* position, attention::Workspace ws,
                  attention::Batch batch, bool programmatic, cudaStream_t stream) {
  launch_dependent(attention_decode_split_kernel<P.threads, Lanes, P.tile, P.heads_per_block, P.min_split>, grid,
                   P.threads, 0, stream, programmatic, "cudaLaunchKernelEx(attention_decode_split_kernel)", q,
                   k_cache, v_cache, shape, splits, position, ws, batch);
}

// The one place head_dim becomes the kernels' Lanes (attention_lanes; 8
// dims a lane): launch(std::integral_constant<int, Lanes>{}). check_shape
// has refused head_dim above 256.
template <class Launch>
void with_lanes(std::uint32_t head_dim, Launch&& launch) {
  switch (attention_lanes(head_dim)) {
    case 8: launch(std::integral_constant<int, 8>{}); return;
    case 16: launch(std::integral_constant<int, 16>{}); return;
    default: launch(std::integral_constant<int, 32>{}); return;
  }
}

// Lanes from head_dim, the rest from the policy.
template <AttentionPolicy P>
void launch_split_for_head_dim(const float* q, const __half* k_cache, const __half* v_cache,
                               const AttentionShape& shape, std::uint32_t splits, dim3 grid,
                               const std::int32_t* position, attention::Workspace ws, attention::Batch batch,
                               bool programmatic, cudaStream_t stream) {
  with_lanes(shape.head_dim, [&](auto lanes) {
    launch_split<P, decltype(lanes)::value>(q, k_cache, v_cache, shape, splits, grid, position, ws, batch,
                                            programmatic, stream);
  });
}

// The chosen policy's splits, with target_blocks in place of its own where not 0.
std::uint32_t splits_for(const AttentionPolicy& chosen, const AttentionShape& shape, std::uint32_t batch,
                         std::uint32_t target_blocks) {
  AttentionPolicy aimed = chosen;
  if (target_blocks != 0) aimed.target_blocks = static_cast<int>(target_blocks);
  return tuning::attention_splits(aimed, shape, batch);
}

template <class Out>
void launch_attention(const float* q, const __half* k_cache, const __half* v_cache, Out* out,
                      const AttentionShape& shape, std::uint32_t batch, const std::int32_t* position,
                      const std::int32_t* sequences, void* workspace, const DeviceInfo& device, cudaStream_t stream,
                      std::uint32_t target_blocks) {
  check_shape(shape);
  require(q != nullptr && k_cache != nullptr && v_cache != nullptr && out != nullptr && position != nullptr &&
              workspace != nullptr,
          operation, "q, the caches, out, position and workspace are not null");
  require(batch >= 1 && batch <= 65535, operation, "a batch of 1 to 65535 query tokens");
  require(target_blocks <= 65535, operation, "a target of at most 65535 blocks");
  const auto aligned16 = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; };
  require(aligned16(q) && aligned16(k_cache) && aligned16(v_cache) && aligned16(workspace), operation,
          "q, the caches and the workspace are 16-byte aligned");
  const AttentionPolicy chosen = tuning::select(device.compute_capability(), shape);
  const std::uint32_t splits = splits_for(chosen, shape, batch, target_blocks);
  const std::uint32_t per_kv = shape.n_heads / shape.n_kv_heads;
  const std::uint32_t groups = (per_kv + chosen.heads_per_block - 1) / chosen.heads_per_block;
  require(std::size_t{shape.n_kv_heads} * groups <= 65535, operation, "KV heads x head groups fit one grid");

  auto* base = static_cast<float*>(workspace);
  const std::size_t slots = std::size_t{batch} * splits * shape.n_heads;  // every token's (split, head) pairs
  const attention::Workspace ws{base, base + slots * shape.head_dim, base + slots * shape.head_dim + slots};
  const attention::Batch tokens{sequences, std::size_t{shape.max_context} * shape.n_kv_heads * shape.head_dim};
  const dim3 grid(splits, shape.n_kv_heads * groups, batch);
  // The one place the run-time choice becomes a template argument.
  visit_listed<tuning::attention_decode_policies>(
      chosen,
      [&](auto i) {
        launch_split_for_head_dim<policies[decltype(i)::value]>(q, k_cache, v_cache, shape, splits, grid, position, ws,
                                                                tokens, device.programmatic_launch(), stream);
      },
      [] { require(false, operation, "the selected policy is one of tuning::attention_decode_policies"); });
  check_launch(operation);
  launch_dependent(attention_decode_merge_kernel<merge_threads, attention_decode_policy.min_split, Out>,
                   dim3(shape.n_heads, batch), merge_threads, 0, stream, device.programmatic_launch(),
                   "cudaLaunchKernelEx(attention_decode_merge_kernel)", ws, shape, splits, position, out);
  check_launch(operation);
}

template <int Lanes>
void launch_direct(const float* q, const __half* k_cache, const __half* v_cache, float* out,
                   const AttentionShape& shape, const std::int32_t* position, bool programmatic,
                   cudaStream_t stream) {
  constexpr AttentionPolicy p = attention_decode_direct_policy;
  launch_dependent(attention_decode_direct_kernel<p.threads, Lanes, p.tile, p.heads_per_block, p.min_split>,
                   dim3(shape.n_heads), p.threads, 0, stream, programmatic,
                   "cudaLaunchKernelEx(attention_decode_direct_kernel)", q, k_cache, v_cache, shape, position, out);
}

}  // namespace

void attention_decode_direct(const float* q, const __half* k_cache, const __half* v_cache, float* out,
                             const AttentionShape& shape, const std::int32_t* position, const DeviceInfo& device,
                             cudaStream_t stream) {
  static_assert(attention_decode_direct_policy.heads_per_block == 1, "a block per query head: n_heads blocks");
  static_assert(attention_decode_direct_policy.min_split == attention_decode_policy.min_split);
  check_shape(shape);
  require(q != nullptr && k_cache != nullptr && v_cache != nullptr && out != nullptr && position != nullptr,
          operation, "q, the caches, out and position are not null");
  const auto aligned16 = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; };
  require(aligned16(q) && aligned16(k_cache) && aligned16(v_cache), operation,
          "q and the caches are 16-byte aligned");
  require(shape.n_heads <= 65535, operation, "n_heads fits one grid");
  with_lanes(shape.head_dim, [&](auto lanes) {
    launch_direct<decltype(lanes)::value>(q, k_cache, v_cache, out, shape, position, device.programmatic_launch(),
                                          stream);
  });
  check_launch(operation);
}

std::size_t attention_decode_workspace_bytes(const AttentionShape& shape, const DeviceInfo& device,
                                             std::uint32_t batch, std::uint32_t target_blocks) {
  check_shape(shape);
  // Any batch up to `batch` may use it, each with its own split count.
  const AttentionPolicy policy = tuning::select(device.compute_capability(), shape);
  std::size_t slots = 0;
  for (std::uint32_t b = 1; b <= std::max<std::uint32_t>(batch, 1); ++b)
    slots = std::max<std::size_t>(slots, std::size_t{b} * splits_for(policy, shape, b, target_blocks));
  return slots * shape.n_heads * (shape.head_dim + 2) * sizeof(float);
}

void attention_decode(const float* q, const __half* k_cache, const __half* v_cache, float* out,
                      const AttentionShape& shape, const std::int32_t* position, void* workspace,
                      const DeviceInfo& device, cudaStream_t stream, std::uint32_t target_blocks) {
  launch_attention(q, k_cache, v_cache, out, shape, 1, position, nullptr, workspace, device, stream, target_blocks);
}

template <class Out>
void attention_decode_batch(const float* q, const __half* k_cache, const __half* v_cache, Out* out,
                            const AttentionShape& shape, std::uint32_t batch, const std::int32_t* position,
                            const std::int32_t* sequences, void* workspace, const DeviceInfo& device,
                            cudaStream_t stream) {
  launch_attention(q, k_cache, v_cache, out, shape, batch, position, sequences, workspace, device, stream, 0);
}

template void attention_decode_batch<float>(const float*, const __half*, const __half*, float*,
                                            const AttentionShape&, std::uint32_t, const std::int32_t*,
                                            const std::int32_t*, void*, const DeviceInfo&, cudaStream_t);
template void attention_decode_batch<__half>(const float*, const __half*, const __half*, __half*,
                                             const AttentionShape&, std::uint32_t, const std::int32_t*,
                                             const std::int32_t*, void*, const DeviceInfo&, cudaStream_t);

}  // namespace pagoda::kernels
