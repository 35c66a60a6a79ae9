// The KV cache in VRAM: per layer, keys and values as f16 rows, one per
// position, (context, n_kv_heads * head_dim). Sized once from the context
// length; the engine refuses a token that would not fit (never wraps).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <cuda_fp16.h>

#include "pagoda/core/cuda_raii.hpp"

namespace pagoda::runtime {

class KvCache {
public:
  KvCache(std::uint32_t layers, std::uint32_t context, std::uint32_t kv_dim)
      : context_(context), kv_dim_(kv_dim) {
    const std::size_t bytes = bytes_per_layer_half(context, kv_dim);
    for (std::uint32_t l = 0; l < layers; ++l) {
      keys_.emplace_back(bytes, "KV cache keys");
      values_.emplace_back(bytes, "KV cache values");
    }
  }

  [[nodiscard]] static std::size_t bytes_per_layer_half(std::uint32_t context, std::uint32_t kv_dim) {
    return std::size_t{context} * kv_dim * sizeof(__half);
  }
  [[nodiscard]] static std::size_t total_bytes(std::uint32_t layers, std::uint32_t context, std::uint32_t kv_dim) {
    return 2 * std::size_t{layers} * bytes_per_layer_half(context, kv_dim);
  }

  [[nodiscard]] __half* keys(std::uint32_t layer) const { return reinterpret_cast<__half*>(keys_[layer].data()); }
  [[nodiscard]] __half* values(std::uint32_t layer) const { return reinterpret_cast<__half*>(values_[layer].data()); }
  [[nodiscard]] std::uint32_t context() const { return context_; }
  [[nodiscard]] std::size_t bytes() const { return total_bytes(static_cast<std::uint32_t>(keys_.size()), context_, kv_dim_); }

private:
  std::uint32_t context_;
  std::uint32_t kv_dim_;
  std::vector<DeviceBuffer> keys_;
  std::vector<DeviceBuffer> values_;
};

}  // namespace pagoda::runtime
