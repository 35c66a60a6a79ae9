// The KV cache in VRAM: per layer, keys and values as f16 rows, one per
// position, (context, n_kv_heads * head_dim), for each of the engine's
// sequences. Sized once from the context length; the engine refuses a token
// that would not fit (never wraps).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <cuda_fp16.h>

#include "pagoda/core/cuda_raii.hpp"

namespace pagoda::runtime {

class KvCache {
public:
  // `sequences` caches of `context` positions each, back to back in one
  // buffer per layer and half: sequence s's rows start at row s * context
  // (the batched attention kernel reads them so).
  KvCache(std::uint32_t layers, std::uint32_t context, std::uint32_t kv_dim, std::uint32_t sequences = 1)
      : context_(context), kv_dim_(kv_dim), sequences_(sequences) {
    const std::size_t bytes = sequences * bytes_per_layer_half(context, kv_dim);
    for (std::uint32_t l = 0; l < layers; ++l) {
      keys_.emplace_back(bytes, "KV cache keys");
      values_.emplace_back(bytes, "KV cache values");
    }
  }

  [[nodiscard]] static std::size_t bytes_per_layer_half(std::uint32_t context, std::uint32_t kv_dim) {
    return std::size_t{context} * kv_dim * sizeof(__half);
  }
  [[nodiscard]] static std::size_t total_bytes(std::uint32_t layers, std::uint32_t context, std::uint32_t kv_dim,
                                               std::uint32_t sequences = 1) {
    return 2 * std::size_t{layers} * sequences * bytes_per_layer_half(context, kv_dim);
  }

  // Layer `layer`'s keys (values) of `sequence`: (context, kv_dim) f16.
  [[nodiscard]] __half* keys(std::uint32_t layer, std::uint32_t sequence = 0) const {
    return reinterpret_cast<__half*>(keys_[layer].data()) + offset(sequence);
  }
  [[nodiscard]] __half* values(std::uint32_t layer, std::uint32_t sequence = 0) const {
    return reinterpret_cast<__half*>(values_[layer].data()) + offset(sequence);
  }
  [[nodiscard]] std::uint32_t context() const { return context_; }
  [[nodiscard]] std::uint32_t sequences() const { return sequences_; }
  [[nodiscard]] std::size_t bytes() const {
    return total_bytes(static_cast<std::uint32_t>(keys_.size()), context_, kv_dim_, sequences_);
  }

private:
  [[nodiscard]] std::size_t offset(std::uint32_t sequence) const { return std::size_t{sequence} * context_ * kv_dim_; }

  std::uint32_t context_;
  std::uint32_t kv_dim_;
  std::uint32_t sequences_;
  std::vector<DeviceBuffer> keys_;
  std::vector<DeviceBuffer> values_;
};

}  // namespace pagoda::runtime
