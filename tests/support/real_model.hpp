// Where the real models are, for the suites that prove pagoda on them: the
// default model (SmolLM2) and Gemma 3 270M. The README's set-up fetches both;
// a missing model is a failure with the fix, never a silent skip.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

namespace pagoda::test {

inline std::filesystem::path default_model_path() {
  if (const char* path = std::getenv("PAGODA_MODEL_PATH"); path && *path) return path;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : ".") / ".cache/pagoda/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

// The model's path; fails the calling test (with how to fetch it) when absent.
inline std::filesystem::path require_default_model() {
  const auto path = default_model_path();
  if (!std::filesystem::exists(path))
    FAIL("the default model is missing at " << path.string()
                                            << "; run scripts/fetch-model.sh (or set PAGODA_MODEL_PATH)");
  return path;
}

inline std::filesystem::path gemma3_model_path() {
  if (const char* path = std::getenv("PAGODA_GEMMA3_PATH"); path && *path) return path;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : ".") / ".cache/pagoda/models/gemma-3-270m-q4_k_m.gguf";
}

// Gemma 3 270M Q4_K_M; fails the calling test (with how to fetch it) when absent.
inline std::filesystem::path require_gemma3_model() {
  const auto path = gemma3_model_path();
  if (!std::filesystem::exists(path))
    FAIL("the Gemma 3 270M model is missing at " << path.string()
                                                 << "; run scripts/fetch-gemma3.sh (or set PAGODA_GEMMA3_PATH)");
  return path;
}

inline std::filesystem::path reference_data(const std::string& name) {
  return std::filesystem::path(PAGODA_TEST_DATA_DIR) / "reference" / name;
}

}  // namespace pagoda::test
