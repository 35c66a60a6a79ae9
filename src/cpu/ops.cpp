#include "pagoda/cpu/ops.hpp"

#include <algorithm>
#include <cmath>

#include "pagoda/core/error.hpp"
#include "pagoda/quant/dequantize.hpp"

namespace pagoda::cpu {

namespace {

// Eight independent partial sums let the compiler vectorise without reordering
// a single float chain (no -ffast-math in the oracle).
float dot(const float* a, const float* b, std::size_t n) {
  float partial[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int lane = 0; lane < 8; ++lane) partial[lane] += a[i + lane] * b[i + lane];
  float sum = 0.0f;
  for (; i < n; ++i) sum += a[i] * b[i];
  for (float p : partial) sum += p;
  return sum;
}

}  // namespace

void rms_norm(std::span<const float> x, std::span<const float> weight, float eps, std::span<float> out) {
  double sum_squares = 0.0;
  for (float v : x) sum_squares += static_cast<double>(v) * v;
  const float scale = static_cast<float>(1.0 / std::sqrt(sum_squares / static_cast<double>(x.size()) + eps));
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = x[i] * scale * weight[i];
}

void apply_rope(std::span<float> head, std::uint32_t position, const model::RopeConfig& rope) {
  const std::uint32_t pairs = rope.dimensions / 2;
  const double scaled_position = static_cast<double>(position) / rope.linear_scale;
  for (std::uint32_t i = 0; i < pairs; ++i) {
    double angle = scaled_position * std::pow(static_cast<double>(rope.freq_base), -2.0 * i / rope.dimensions);
    if (!rope.freq_factors.empty()) angle /= rope.freq_factors[i];
    const float c = static_cast<float>(std::cos(angle));
    const float s = static_cast<float>(std::sin(angle));
    const std::size_t a = rope.layout == model::RopeLayout::interleaved ? 2 * i : i;
    const std::size_t b = rope.layout == model::RopeLayout::interleaved ? 2 * i + 1 : i + pairs;
    const float x0 = head[a];
    const float x1 = head[b];
    head[a] = x0 * c - x1 * s;
    head[b] = x0 * s + x1 * c;
  }
}

void softmax(std::span<float> values) {
  const float max = *std::ranges::max_element(values);
  double sum = 0.0;
  for (float& v : values) {
    v = std::exp(v - max);
    sum += v;
  }
  const float inverse = static_cast<float>(1.0 / sum);
  for (float& v : values) v *= inverse;
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

float gelu_tanh(float x) {
  constexpr float sqrt_2_over_pi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(sqrt_2_over_pi * (x + 0.044715f * x * x * x)));
}

void gated_activation(model::FfnActivation activation, std::span<float> gate, std::span<const float> up) {
  if (gate.size() != up.size()) fail("gated activation: gate has {} values, up {}", gate.size(), up.size());
  switch (activation) {
    case model::FfnActivation::silu:
      for (std::size_t i = 0; i < gate.size(); ++i) gate[i] = silu(gate[i]) * up[i];
      return;
    case model::FfnActivation::gelu_tanh:
      for (std::size_t i = 0; i < gate.size(); ++i) gate[i] = gelu_tanh(gate[i]) * up[i];
      return;
  }
  fail("gated activation: unknown activation {}", static_cast<int>(activation));
}

void add_bias(std::span<float> rows, std::span<const float> bias) {
  if (bias.empty() || rows.size() % bias.size() != 0)
    fail("add_bias: {} values are not whole rows of the bias's {}", rows.size(), bias.size());
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] += bias[i % bias.size()];
}

std::vector<float> dequantize_tensor(const gguf::TensorInfo& tensor) {
  std::vector<float> out(tensor.element_count);
  quant::dequantize_row(tensor.type, tensor.bytes, out);
  return out;
}

void dequantize_row(const gguf::TensorInfo& tensor, std::uint64_t row, std::span<float> out) {
  if (row >= tensor.rows()) fail("row {} of tensor '{}' is out of range ({} rows)", row, tensor.name, tensor.rows());
  const std::uint64_t row_bytes = tensor.row_bytes();
  quant::dequantize_row(tensor.type, tensor.bytes.subspan(row * row_bytes, row_bytes), out.first(tensor.dims[0]));
}

void matmul(const gguf::TensorInfo& weight, std::span<const float> x, std::size_t n_tokens, std::span<float> y,
            ThreadPool& pool) {
  const std::size_t k = weight.dims[0];
  const std::size_t rows = weight.rows();
  if (x.size() != n_tokens * k || y.size() != n_tokens * rows)
    fail("matmul with '{}': input has {} values and output {}, expected {} x {} and {} x {}", weight.name, x.size(),
         y.size(), n_tokens, k, n_tokens, rows);
  pool.parallel_for(rows, [&](std::size_t begin, std::size_t end) {
    std::vector<float> row(k);
    for (std::size_t r = begin; r < end; ++r) {
      dequantize_row(weight, r, row);
      for (std::size_t t = 0; t < n_tokens; ++t) y[t * rows + r] = dot(row.data(), x.data() + t * k, k);
    }
  });
}

}  // namespace pagoda::cpu
