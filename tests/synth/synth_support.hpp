// Helpers for the synthetic-model tests: small shapes (CI has 2 cores), a
// scratch directory, and statistics of a tensor dequantized by pagoda's own
// reference dequantizer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/file.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/quant/dequantize.hpp"

#include "support/scratch_dir.hpp"

namespace pagoda::test {

// A tiny llama: GQA 4:2, rows of 256 so every K-quant divides them.
inline model::SyntheticShape tiny_llama_shape(std::uint32_t d = 256, std::uint32_t vocab = 512) {
  auto shape = model::parse_custom_shape(
      fmt::format("layers=2,d={},heads=4,kv=2,ffn=512,vocab={},ctx=128", d, vocab));
  shape.name = "tiny";
  return shape;
}

inline model::SyntheticSpec spec_of(model::SyntheticShape shape, model::QuantRecipe recipe, std::uint64_t seed = 7,
                                    unsigned threads = 2) {
  model::SyntheticSpec spec;
  spec.shape = std::move(shape);
  spec.recipe = recipe;
  spec.seed = seed;
  spec.threads = threads;
  return spec;
}

struct TensorStats {
  double mean = 0.0;
  double std = 0.0;
  bool finite = true;
};

inline TensorStats stats_of(const gguf::TensorInfo& tensor) {
  std::vector<float> values(tensor.element_count);
  quant::dequantize_row(tensor.type, tensor.bytes, values);
  TensorStats s;
  double sum = 0.0, sum_sq = 0.0;
  for (const float v : values) {
    if (!std::isfinite(v)) s.finite = false;
    sum += v;
    sum_sq += static_cast<double>(v) * v;
  }
  const auto n = static_cast<double>(values.size());
  s.mean = sum / n;
  s.std = std::sqrt(std::max(0.0, sum_sq / n - s.mean * s.mean));
  return s;
}

}  // namespace pagoda::test
