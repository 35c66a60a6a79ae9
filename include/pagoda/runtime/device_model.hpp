// The model as the GPU sees it: every weight matrix bound to its device-visible
// bytes and its format's kernels, the small tensors (norm weights, biases) and
// RoPE factors as f32 in VRAM. Where the matrix bytes live is the mapping policy's business;
// it arrives here only as a function from tensor to device pointer. It also
// holds the engine's kernels::DeviceInfo, the one description of the device
// that every launch of the forward pass is given.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pagoda/kernels/device_info.hpp"
#include "pagoda/model/config.hpp"
#include "pagoda/model/weights.hpp"
#include "pagoda/quant/layout.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda/runtime/device_matrix.hpp"

namespace pagoda::runtime {

using DevicePointerOf = std::function<const std::byte*(const gguf::TensorInfo&)>;
using LayoutOf = std::function<quant::WeightLayout(const gguf::TensorInfo&)>;

struct DeviceLayer {
  const float* attn_norm;  // (d_model) f32
  const float* ffn_norm;   // (d_model) f32
  DeviceMatrix wq, wk, wv, wo, w_gate, w_up, w_down;
  // f32 in VRAM where the architecture has them (model::LayerWeights), else nullptr:
  const float* q_bias = nullptr;          // (q_dim)
  const float* k_bias = nullptr;          // (kv_dim)
  const float* v_bias = nullptr;          // (kv_dim)
  const float* q_norm = nullptr;          // (head_dim)
  const float* k_norm = nullptr;          // (head_dim)
  const float* post_attn_norm = nullptr;  // (d_model)
  const float* post_ffn_norm = nullptr;   // (d_model)
};

class DeviceModel {
public:
  // layout_of: each matrix's layout, as the policy left it (runtime/layout_plan.hpp).
  // device: the current device, described once for this engine (kept; device()).
  // allow_wgmma: prompts take wgmma where the device runs it (DeviceInfo::wgmma).
  DeviceModel(const model::ModelConfig& config, const model::ModelWeights& weights, const DevicePointerOf& locate,
              const LayoutOf& layout_of, kernels::DeviceInfo device, bool allow_wgmma = true);

  [[nodiscard]] const kernels::DeviceInfo& device() const { return device_; }

  [[nodiscard]] const DeviceMatrix& token_embedding() const { return token_embedding_; }
  [[nodiscard]] const DeviceMatrix& output() const { return output_; }
  [[nodiscard]] const float* output_norm() const { return output_norm_; }
  [[nodiscard]] const std::vector<DeviceLayer>& layers() const { return layers_; }
  // nullptr when the model has no rope_freqs.weight.
  [[nodiscard]] const float* rope_freq_factors() const {
    return rope_freq_factors_.size() ? reinterpret_cast<const float*>(rope_freq_factors_.data()) : nullptr;
  }
  // VRAM this object allocated itself (norms, factors): not the weights.
  [[nodiscard]] std::size_t own_vram_bytes() const { return own_bytes_; }
  // How the layers' matrices multiply a prompt: how many take the mma.sync
  // kernel (kernels::matmul_mma_streams) and why the others keep the tile
  // kernel (matmul_q / matmul_q_streams), one example each.
  [[nodiscard]] std::string prefill_kernels() const;

private:
  // `tensor` as f32 in a buffer of this object's own (small_tensors_),
  // dequantized on `stream` from its placed bytes.
  const float* place_f32(const gguf::TensorInfo& tensor, const DevicePointerOf& locate, const CudaStream& stream);

  kernels::DeviceInfo device_;
  DeviceMatrix token_embedding_;
  DeviceMatrix output_;
  const float* output_norm_ = nullptr;
  DeviceBuffer rope_freq_factors_;
  std::vector<DeviceBuffer> small_tensors_;  // norm weights and biases, f32
  std::vector<DeviceLayer> layers_;
  std::size_t own_bytes_ = 0;
};

}  // namespace pagoda::runtime
