#include "kernel_bench/cases.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "pagoda/quant/field_streams.hpp"

namespace pagoda::kernel_bench {

std::vector<Projection> projections_of(const model::SyntheticShape& s) {
  const std::uint64_t d = s.d_model, q = std::uint64_t{s.n_heads} * s.effective_head_dim(),
                      kv = std::uint64_t{s.n_kv_heads} * s.effective_head_dim();
  return {{"attn_q", q, d},      {"attn_k", kv, d},      {"attn_v", kv, d},       {"attn_output", d, q},
          {"ffn_gate", s.d_ffn, d}, {"ffn_up", s.d_ffn, d}, {"ffn_down", d, s.d_ffn}, {"output", s.vocab, d}};
}

std::vector<GemvCase> plan_gemv(const std::vector<std::string>& shapes, const std::vector<gguf::TensorType>& formats) {
  std::vector<GemvCase> cases;
  for (const std::string& name : shapes) {
    const auto& shape = model::find_shape(name);
    for (const Projection& p : projections_of(shape)) {
      for (gguf::TensorType format : formats) {
        const gguf::TypeGeometry g = gguf::geometry_of(format);
        GemvCase c{.shape = shape.name, .projection = p, .format = format};
        if (p.cols % g.block_elements != 0)
          c.skipped = fmt::format("cols {} is not a multiple of {}'s {}-element blocks", p.cols, g.name,
                                  g.block_elements);
        else
          c.weight_bytes = p.rows * (p.cols / g.block_elements) * g.block_bytes;
        const bool has_streams = quant::visit_field_stream_format(format, [](auto) {});
        cases.push_back(c);
        if (has_streams) {
          c.layout = quant::WeightLayout::field_streams;
          cases.push_back(std::move(c));
        }
      }
    }
  }
  return cases;
}

std::vector<AttentionCase> plan_attention(const std::string& shape_name, const std::vector<std::uint32_t>& depths) {
  const auto& s = model::find_shape(shape_name);
  std::vector<AttentionCase> cases;
  for (std::uint32_t depth : depths) {
    const std::uint64_t kv_dim = std::uint64_t{s.n_kv_heads} * s.effective_head_dim();
    cases.push_back({.shape = s.name,
                     .n_heads = s.n_heads,
                     .n_kv_heads = s.n_kv_heads,
                     .head_dim = s.effective_head_dim(),
                     .depth = depth,
                     .kv_bytes = 2 * 2 * std::uint64_t{depth} * kv_dim});
  }
  return cases;
}

int copies_for(std::uint64_t bytes, std::uint64_t footprint_bytes, int max_copies) {
  if (bytes == 0) return 2;
  const std::uint64_t wanted = (footprint_bytes + bytes - 1) / bytes;
  return static_cast<int>(std::clamp<std::uint64_t>(wanted, 2, static_cast<std::uint64_t>(std::max(2, max_copies))));
}

double gb_per_second(std::uint64_t bytes, double microseconds) {
  return microseconds > 0 ? static_cast<double>(bytes) / (microseconds * 1e3) : 0.0;
}

double percent_of(double gb_s, const std::optional<bench::LinkMeasurement>& device_read) {
  return device_read && device_read->gb_s > 0 ? 100.0 * gb_s / device_read->gb_s : 0.0;
}

}  // namespace pagoda::kernel_bench
