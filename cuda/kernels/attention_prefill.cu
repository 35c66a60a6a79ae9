// kernels::attention_prefill: the launcher and its kernels (one per head-size
// shape of tuning/attention_prefill.hpp), compiled once. What the kernel
// computes, its bytes and its bound: include/pagoda/kernels/attention_prefill.cuh.
#include <pagoda/core/type_list.hpp>
#include <pagoda/kernels/attention_prefill.cuh>
#include <pagoda/kernels/attention_prefill_mma.cuh>

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include <pagoda/kernels/cuda_check.hpp>

namespace pagoda::kernels {

namespace {

constexpr std::string_view operation = "kernels::attention_prefill";

template <int policy_index>
void launch(const attention_detail::PrefillArgs& args, std::uint32_t n_heads, const DeviceInfo& device,
            cudaStream_t stream) {
  constexpr AttentionPrefillPolicy policy = attention_prefill_policies[policy_index];
  constexpr std::size_t smem = policy.shared_bytes();
  const auto kernel = attention_prefill_kernel<policy_index>;
  device.opt_in_shared_memory(reinterpret_cast<const void*>(kernel), smem, operation);
  const dim3 grid(static_cast<unsigned>(args.query_tiles), n_heads);
  kernel<<<grid, AttentionPrefillPolicy::threads, smem, stream>>>(args);
  check_launch(operation);
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace

void attention_prefill(const float* q, const __half* k_cache, const __half* v_cache, float* out,
                       std::uint32_t n_heads, std::uint32_t n_kv_heads, std::uint32_t head_dim,
                       std::uint32_t max_context, float scale, std::uint32_t start, std::size_t tokens,
                       const DeviceInfo& device, cudaStream_t stream, std::uint32_t window) {
  require(n_heads > 0 && n_kv_heads > 0 && n_heads % n_kv_heads == 0 && n_heads <= 65535, operation,
          "n_kv_heads (" + std::to_string(n_kv_heads) + ") divides n_heads (" + std::to_string(n_heads) +
              "), both non-zero, n_heads <= 65535");
  require(head_dim > 0 && head_dim % 8 == 0 && head_dim <= 256, operation,
          "head_dim (" + std::to_string(head_dim) + ") is a multiple of 8 and at most 256");
  require(static_cast<std::uint64_t>(start) + tokens <= max_context, operation,
          "start + tokens (" + std::to_string(static_cast<std::uint64_t>(start) + tokens) +
              ") fits the cache of max_context (" + std::to_string(max_context) + ") rows");
  require(static_cast<std::uint64_t>(n_heads) * head_dim <= 0x7fffffffu &&
              static_cast<std::uint64_t>(start) + tokens <= 0x7fffffffu,
          operation, "n_heads * head_dim and start + tokens below 2^31");
  if (tokens == 0) return;
  require(q != nullptr && k_cache != nullptr && v_cache != nullptr && out != nullptr, operation,
          "q, the caches and out are not null");
  require(aligned16(q) && aligned16(k_cache) && aligned16(v_cache) && aligned16(out), operation,
          "q, the caches and out are 16-byte aligned");

  // Head sizes 64, 128 and 256 on tensor cores; the others on the f32 kernel,
  // whose tile shapes pad them (tuning/attention_prefill.hpp).
  const bool tensor_cores = attention_prefill_mma_takes(head_dim);
  const int index = select_attention_prefill_policy(head_dim);
  const int queries = tensor_cores ? attention_mma::queries : attention_prefill_policies[index].queries;
  const attention_detail::PrefillArgs args{
      q,
      k_cache,
      v_cache,
      out,
      static_cast<int>(head_dim),
      static_cast<int>(n_heads / n_kv_heads),
      static_cast<int>(n_heads * head_dim),
      static_cast<int>(n_kv_heads * head_dim),
      scale * 1.4426950408889634f,  // log2(e)
      static_cast<int>(start),
      static_cast<int>(tokens),
      static_cast<int>((tokens + static_cast<std::size_t>(queries) - 1) / static_cast<std::size_t>(queries)),
      static_cast<int>(window < max_context ? window : 0),  // a window as long as the cache hides nothing
  };
  const auto unlisted = [] { require(false, operation, "the head size has a listed kernel"); };
  if (tensor_cores) {
    visit_listed<attention_prefill_mma_head_dims>(
        head_dim,
        [&](auto i) {
          constexpr int d = static_cast<int>(attention_prefill_mma_head_dims[decltype(i)::value]);
          attention_detail::launch_prefill_mma<d>(args, n_heads, device, stream);
        },
        unlisted);
    return;
  }
  visit_listed<attention_prefill_policies>(
      attention_prefill_policies[index],
      [&](auto i) { launch<static_cast<int>(decltype(i)::value)>(args, n_heads, device, stream); },
      unlisted);
}

}  // namespace pagoda::kernels
