// What pagoda-kernel-bench times, as plain values: the GEMVs of one decode
// step of each named model shape (rows = outputs, cols = inputs), in each
// format, and attention decode at several KV depths; with the results the
// CUDA app fills in. Host-only, so the plan and the arithmetic are tested on
// the CPU (tests/bench).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pagoda/gguf/tensor_type.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/quant/layout.hpp"
#include "pagoda_bench/link_measurement.hpp"

namespace pagoda::kernel_bench {

// One weight matrix of a decode step: y (rows) = W (rows, cols) x (cols).
struct Projection {
  std::string name;  // attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down, output
  std::uint64_t rows = 0;
  std::uint64_t cols = 0;
};

// The eight projections of a llama-style shape, in forward order.
[[nodiscard]] std::vector<Projection> projections_of(const model::SyntheticShape& shape);

struct GemvCase {
  std::string shape;
  Projection projection;
  gguf::TensorType format{};
  quant::WeightLayout layout = quant::WeightLayout::gguf_blocks;  // field streams: gemv_streams
  std::uint64_t weight_bytes = 0;  // rows * cols / block_elements * block_bytes
  std::string skipped;             // non-empty: why it cannot run (cols not whole blocks)
  // Filled by the app:
  double microseconds = 0;         // median per GEMV
  int copies = 0;                  // weight copies a timed replay walks through
};

// Every (shape, projection, format), and the format's field-streams layout
// beside its GGUF one where it has it; cases whose cols are not whole blocks
// of the format are kept, marked skipped with the reason.
[[nodiscard]] std::vector<GemvCase> plan_gemv(const std::vector<std::string>& shapes,
                                              const std::vector<gguf::TensorType>& formats);

struct AttentionCase {
  std::string shape;
  std::uint32_t n_heads = 0;
  std::uint32_t n_kv_heads = 0;
  std::uint32_t head_dim = 0;
  std::uint32_t depth = 0;        // positions attended (the cache's live length)
  std::uint64_t kv_bytes = 0;     // f16 K and V of those positions: 4 * depth * kv_dim
  // Filled by the app:
  double microseconds = 0;
  int copies = 0;
};

[[nodiscard]] std::vector<AttentionCase> plan_attention(const std::string& shape,
                                                        const std::vector<std::uint32_t>& depths);

// Weight copies a timed replay rotates through: enough that together they
// are at least `footprint_bytes` (a few times L2, so no repeat is served from
// it), at least 2, at most `max_copies`.
[[nodiscard]] int copies_for(std::uint64_t bytes, std::uint64_t footprint_bytes, int max_copies);

// GB/s (1e9 B/s) of moving `bytes` in `microseconds`, and as a share of a measured read.
[[nodiscard]] double gb_per_second(std::uint64_t bytes, double microseconds);
[[nodiscard]] double percent_of(double gb_s, const std::optional<bench::LinkMeasurement>& device_read);

struct KernelReport {
  std::string device_name;
  int compute_major = 0;
  int compute_minor = 0;
  std::uint64_t l2_bytes = 0;
  std::uint64_t footprint_bytes = 0;  // what the copies of each case add up to, at least
  std::optional<bench::LinkMeasurement> device_read;
  int samples = 0;
  std::vector<GemvCase> gemv;
  std::vector<AttentionCase> attention;
};

}  // namespace pagoda::kernel_bench
