// The decode roofline of a mapping policy: every weight byte a token needs
// crosses the link the weights live behind once per token, and the KV cache
// (always in VRAM) is read once per token up to the current position. So
//   seconds per token >= W / B_weights + K * live / B_device
// with W the weight bytes per token, B_weights the streaming-read bandwidth of
// where the policy keeps the weights (VRAM or pinned host memory, measured at
// start-up), K the KV bytes per position and live the positions attended.
// At depth 0 the KV term is ~0.2% of the weights for the 8B shape, and
//   % of roofline = t/s * W / B_weights
// exactly as the issue defines it. Host-only, tested in tests/bench.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "pagoda_bench/test_plan.hpp"

namespace pagoda::bench {

// What the roofline needs of one tensor of the file.
struct TensorBytes {
  std::string_view name;
  std::uint64_t bytes = 0;
  std::uint64_t row_bytes = 0;
};

// Bytes one decoded token reads: every tensor, except that an input
// embedding with a separate output.weight is read one row per token (a
// tied one is the output projection too, so it counts whole).
[[nodiscard]] inline std::uint64_t weight_bytes_per_token(std::span<const TensorBytes> tensors) {
  bool separate_output = false;
  for (const TensorBytes& t : tensors) separate_output = separate_output || t.name == "output.weight";
  std::uint64_t bytes = 0;
  for (const TensorBytes& t : tensors)
    bytes += separate_output && t.name == "token_embd.weight" ? t.row_bytes : t.bytes;
  return bytes;
}

// f16 keys and values of every layer, for one position.
[[nodiscard]] constexpr std::uint64_t kv_bytes_per_position(std::uint32_t n_layers, std::uint32_t kv_dim) {
  return 2ull * n_layers * kv_dim * 2;
}

// Positions a decode step attends, averaged over a test's timed steps: step i
// (from 0) of a test at depth d attends d + i + 1 positions.
[[nodiscard]] constexpr double mean_attended_positions(const BenchTest& test) {
  return static_cast<double>(test.n_depth) + static_cast<double>(test.n_gen + 1) / 2.0;
}

struct Roofline {
  std::uint64_t weight_bytes_per_token = 0;
  double weight_link_gb_s = 0;  // 1e9 B/s
  std::uint64_t kv_bytes_per_position = 0;
  double device_gb_s = 0;

  // The ceiling on decode t/s while attending `positions` (0 without bandwidths).
  [[nodiscard]] double tokens_per_second(double positions) const {
    if (weight_link_gb_s <= 0 || device_gb_s <= 0) return 0;
    const double seconds = static_cast<double>(weight_bytes_per_token) / (weight_link_gb_s * 1e9) +
                           static_cast<double>(kv_bytes_per_position) * positions / (device_gb_s * 1e9);
    return seconds > 0 ? 1.0 / seconds : 0;
  }
  // Measured decode t/s as a percentage of that ceiling.
  [[nodiscard]] double percent(double measured_tokens_per_second, double positions) const {
    const double ceiling = tokens_per_second(positions);
    return ceiling > 0 ? 100.0 * measured_tokens_per_second / ceiling : 0;
  }
};

}  // namespace pagoda::bench
