#include "pagoda/runtime/device_model.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "pagoda/kernels/dequantize.cuh"
#include "pagoda/quant/format_list.hpp"

namespace pagoda::runtime {

namespace {

DeviceBuffer upload(const std::vector<float>& values, const char* what) {
  DeviceBuffer buffer(values.size() * sizeof(float), what);
  check_cuda(cudaMemcpy(buffer.data(), values.data(), buffer.size(), cudaMemcpyHostToDevice), "cudaMemcpy", what);
  return buffer;
}

}  // namespace

// The small tensors become f32 in VRAM of their own, dequantized on the
// device from where the policy placed them — never read back through the
// file mapping: a copying policy has let go of the file's page cache by now,
// and reading an 8B model's 65 scattered norm tensors back from disk took
// 0.3 s (docs/notes/performance.md, "Issue 3: the norms read back from disk").
const float* DeviceModel::place_f32(const gguf::TensorInfo& tensor, const DevicePointerOf& locate,
                                   const CudaStream& stream) {
  DeviceBuffer buffer(tensor.element_count * sizeof(float), "norm weights and biases");
  auto* values = reinterpret_cast<float*>(buffer.data());
  quant::visit_format(tensor.type, [&](auto tag) {
    using F = typename decltype(tag)::type;
    kernels::dequantize<F>(locate(tensor), values, tensor.element_count, stream.get());
  });
  own_bytes_ += buffer.size();
  small_tensors_.push_back(std::move(buffer));
  return values;
}

DeviceModel::DeviceModel(const model::ModelConfig& config, const model::ModelWeights& weights,
                         const DevicePointerOf& locate, const LayoutOf& layout_of, kernels::DeviceInfo device,
                         bool allow_wgmma)
    : device_(std::move(device)) {
  // Whether prompts take wgmma (Hopper, a build with sm_90a code) rather than mma.sync: decided once, here.
  const bool wgmma = allow_wgmma && device_.wgmma();
  const auto bind = [&](const gguf::TensorInfo* tensor) {
    return bind_device_matrix(*tensor, locate(*tensor), layout_of(*tensor), wgmma);
  };
  const CudaStream stream("DeviceModel: norm weights and biases");
  const auto place = [&](const gguf::TensorInfo* tensor) {
    return tensor ? place_f32(*tensor, locate, stream) : nullptr;
  };
  token_embedding_ = bind(weights.token_embedding);
  output_ = bind(weights.output);
  small_tensors_.reserve(9 * weights.layers.size() + 1);
  output_norm_ = place(weights.output_norm);
  if (!config.rope.freq_factors.empty()) {
    rope_freq_factors_ = upload(config.rope.freq_factors, "RoPE frequency factors");
    own_bytes_ += rope_freq_factors_.size();
  }
  for (const auto& layer : weights.layers) {
    layers_.push_back(DeviceLayer{
        .attn_norm = place(layer.attn_norm),
        .ffn_norm = place(layer.ffn_norm),
        .wq = bind(layer.wq), .wk = bind(layer.wk), .wv = bind(layer.wv), .wo = bind(layer.wo),
        .w_gate = bind(layer.w_gate), .w_up = bind(layer.w_up), .w_down = bind(layer.w_down),
        .q_bias = place(layer.q_bias),
        .k_bias = place(layer.k_bias),
        .v_bias = place(layer.v_bias),
        .q_norm = place(layer.q_norm),
        .k_norm = place(layer.k_norm),
        .post_attn_norm = place(layer.post_attn_norm),
        .post_ffn_norm = place(layer.post_ffn_norm),
    });
  }
  stream.synchronize("DeviceModel: norm weights and biases");
}

std::string DeviceModel::prefill_kernels() const {
  std::map<PrefillGemm, std::size_t> count;
  std::map<std::string, std::string> why;  // reason -> an example matrix
  for (const DeviceLayer& layer : layers_)
    for (const DeviceMatrix* m : {&layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.w_gate, &layer.w_up, &layer.w_down}) {
      ++count[m->prefill_gemm];
      if (m->prefill_gemm != PrefillGemm::tile) continue;
      const std::string reason = m->layout != quant::WeightLayout::field_streams
                                     ? "not in field streams"
                                     : "cols " + std::to_string(m->cols) + " not whole 64-element stages of word-aligned streams";
      why.emplace(reason, m->info ? std::string(m->info->name) : std::string("a matrix"));
    }
  std::string text;
  for (const PrefillGemm gemm : {PrefillGemm::wgmma, PrefillGemm::mma_sync})
    if (count[gemm] > 0) text += std::string(name_of(gemm)) + " " + std::to_string(count[gemm]) + " matrices; ";
  text += "tile kernel " + std::to_string(count[PrefillGemm::tile]);
  const auto fused = std::ranges::count_if(layers_, [](const DeviceLayer& layer) {
    return DeviceMatrix::take_gated(layer.w_gate, layer.w_up) && layer.w_down.matmul_mma != nullptr;
  });
  if (fused > 0) text += "; gate, up and the activation in one launch in " + std::to_string(fused) + " layers";
  for (const auto& [reason, example] : why) text += " (" + reason + ", e.g. " + example + ")";
  return text;
}

}  // namespace pagoda::runtime
