// Synthetic models the GPU engine tests share, each written once per machine
// into the temporary directory (an environment variable names one to reuse).
#pragma once

#include <cstdlib>
#include <filesystem>

#include "pagoda/model/synthetic.hpp"

namespace pagoda::gpu_test {

// The synthetic 1B-shaped model, written once per machine (PAGODA_SYNTH_1B reuses one).
inline std::filesystem::path synthetic_1b() {
  if (const char* path = std::getenv("PAGODA_SYNTH_1B")) return path;
  const auto path = std::filesystem::temp_directory_path() / "pagoda-synth-llama-3.2-1b-q4_0.gguf";
  if (!std::filesystem::exists(path)) {
    model::SyntheticSpec spec{.shape = model::find_shape("llama-3.2-1b"),
                              .recipe = model::QuantRecipe::uniform(gguf::TensorType::Q4_0), .seed = 7};
    model::write_synthetic(spec, path);
  }
  return path;
}

// The synthetic Qwen2.5-0.5B-shaped model (QKV biases, NeoX RoPE), Q4_K_M,
// written once per machine (PAGODA_SYNTH_QWEN2 reuses one).
inline std::filesystem::path synthetic_qwen2() {
  if (const char* path = std::getenv("PAGODA_SYNTH_QWEN2")) return path;
  const auto path = std::filesystem::temp_directory_path() / "pagoda-synth-qwen2.5-0.5b-q4_k_m.gguf";
  if (!std::filesystem::exists(path)) {
    model::SyntheticSpec spec{.shape = model::find_shape("qwen2.5-0.5b"), .recipe = model::QuantRecipe::q4_k_m(),
                              .seed = 7};
    model::write_synthetic(spec, path);
  }
  return path;
}

// The synthetic Gemma-3-270M-shaped model (post-norms, qk-norm, head_dim 256,
// GeGLU, sliding-window layers) in Q4_0 with its own output matrix (untied,
// so it is in field streams too), written once per machine
// (PAGODA_SYNTH_GEMMA3 reuses one).
inline std::filesystem::path synthetic_gemma3_untied() {
  if (const char* path = std::getenv("PAGODA_SYNTH_GEMMA3")) return path;
  const auto path = std::filesystem::temp_directory_path() / "pagoda-synth-gemma-3-270m-untied-q4_0.gguf";
  if (!std::filesystem::exists(path)) {
    model::SyntheticShape shape = model::find_shape("gemma-3-270m");
    shape.tied_output = false;
    model::SyntheticSpec spec{.shape = shape, .recipe = model::QuantRecipe::uniform(gguf::TensorType::Q4_0),
                              .seed = 7};
    model::write_synthetic(spec, path);
  }
  return path;
}

}  // namespace pagoda::gpu_test
