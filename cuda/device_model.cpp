#include "pagoda/runtime/device_model.hpp"

#include "pagoda/cpu/ops.hpp"

namespace pagoda::runtime {

namespace {

DeviceBuffer upload(const std::vector<float>& values, const char* what) {
  DeviceBuffer buffer(values.size() * sizeof(float), what);
  check_cuda(cudaMemcpy(buffer.data(), values.data(), buffer.size(), cudaMemcpyHostToDevice), "cudaMemcpy", what);
  return buffer;
}

}  // namespace

const float* DeviceModel::upload_f32(const gguf::TensorInfo& tensor) {
  norm_buffers_.push_back(upload(cpu::dequantize_tensor(tensor), "norm weights and biases"));
  own_bytes_ += norm_buffers_.back().size();
  return reinterpret_cast<const float*>(norm_buffers_.back().data());
}

DeviceModel::DeviceModel(const model::ModelConfig& config, const model::ModelWeights& weights,
                         const DevicePointerOf& locate) {
  const auto bind = [&](const gguf::TensorInfo* tensor) { return bind_device_matrix(*tensor, locate(*tensor)); };
  token_embedding_ = bind(weights.token_embedding);
  output_ = bind(weights.output);
  output_norm_ = upload(cpu::dequantize_tensor(*weights.output_norm), "output norm");
  own_bytes_ += output_norm_.size();
  if (!config.rope.freq_factors.empty()) {
    rope_freq_factors_ = upload(config.rope.freq_factors, "RoPE frequency factors");
    own_bytes_ += rope_freq_factors_.size();
  }
  norm_buffers_.reserve(9 * weights.layers.size());
  for (const auto& layer : weights.layers) {
    layers_.push_back(DeviceLayer{
        .attn_norm = upload_f32(*layer.attn_norm),
        .ffn_norm = upload_f32(*layer.ffn_norm),
        .wq = bind(layer.wq), .wk = bind(layer.wk), .wv = bind(layer.wv), .wo = bind(layer.wo),
        .w_gate = bind(layer.w_gate), .w_up = bind(layer.w_up), .w_down = bind(layer.w_down),
        .q_bias = upload_optional(layer.q_bias),
        .k_bias = upload_optional(layer.k_bias),
        .v_bias = upload_optional(layer.v_bias),
        .q_norm = upload_optional(layer.q_norm),
        .k_norm = upload_optional(layer.k_norm),
        .post_attn_norm = upload_optional(layer.post_attn_norm),
        .post_ffn_norm = upload_optional(layer.post_ffn_norm),
    });
  }
}

}  // namespace pagoda::runtime
