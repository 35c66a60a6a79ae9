// The CPU reference's operations, in plain float32, written to be obviously
// right: the oracle every GPU kernel is checked against. Quantized weights are
// dequantized row by row (quant/dequantize.hpp) right before use, so the
// oracle needs no f32 copy of the model.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pagoda/cpu/thread_pool.hpp"
#include "pagoda/gguf/file.hpp"
#include "pagoda/model/config.hpp"

namespace pagoda::cpu {

// out = x / sqrt(mean(x^2) + eps) * weight
void rms_norm(std::span<const float> x, std::span<const float> weight, float eps, std::span<float> out);

// Rotates one head's first rope.dimensions values for a token at `position`.
void apply_rope(std::span<float> head, std::uint32_t position, const model::RopeConfig& rope);

// In place, numerically stable (max subtracted).
void softmax(std::span<float> values);

[[nodiscard]] float silu(float x);
// GELU, tanh approximation (PyTorch's approximate="tanh", Gemma's gelu_pytorch_tanh).
[[nodiscard]] float gelu_tanh(float x);

// gate[i] = act(gate[i]) * up[i]: the gated FFN's element-wise step.
void gated_activation(model::FfnActivation activation, std::span<float> gate, std::span<const float> up);

// rows[r] += bias for each row of `bias.size()` values.
void add_bias(std::span<float> rows, std::span<const float> bias);

// The whole tensor as floats (norm weights, small tables).
[[nodiscard]] std::vector<float> dequantize_tensor(const gguf::TensorInfo& tensor);

// Row `row` of a 2-D tensor as floats.
void dequantize_row(const gguf::TensorInfo& tensor, std::uint64_t row, std::span<float> out);

// y[t][r] = dot(W row r, x[t]) for t < n_tokens, r < W.rows().
// x: (n_tokens, W.dims[0]) row-major; y: (n_tokens, W.rows()) row-major.
// Each weight row is dequantized once and used for every token.
void matmul(const gguf::TensorInfo& weight, std::span<const float> x, std::size_t n_tokens, std::span<float> y,
            ThreadPool& pool);

}  // namespace pagoda::cpu
