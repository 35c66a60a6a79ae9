// What the report says about a model file: name, llama-bench's size and
// params, and the per-token bytes the roofline divides by. Host-only: read
// from the GGUF's tensor table and hyperparameters, no GPU needed.
#pragma once

#include <string>

#include "pagoda/gguf/file.hpp"
#include "pagoda_bench/results.hpp"

namespace pagoda::bench {

// Throws pagoda::Error (from model::read_config) for a file pagoda cannot run.
[[nodiscard]] ModelInfo describe_model(const gguf::File& file, std::string path);

}  // namespace pagoda::bench
