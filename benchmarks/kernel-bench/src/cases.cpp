#include "kernel_bench/cases.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
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

namespace {

// kernels::matmul_mma_takes<F>, with the reason for a refusal.
template <class F>
std::string mma_refusal_of(std::uint64_t cols) {
  if (cols == 0) return "no columns";
  if (cols % F::block_elements != 0)
    return fmt::format("cols {} is not a multiple of {}'s {}-element blocks", cols, F::name, F::block_elements);
  if (cols % 64 != 0) return fmt::format("cols {} is not a multiple of matmul_mma_streams's 64-element stages", cols);
  const std::uint64_t blocks = cols / F::block_elements;
  for (const quant::FieldStream& s : quant::FieldStreams<F>::streams)
    if (blocks * s.bytes % 4 != 0)
      return fmt::format("cols {} make {} blocks of {}: a row's entries of the {}-byte field at block byte {} take {} "
                         "bytes, not whole 4-byte words (matmul_mma_streams copies words)",
                         cols, blocks, F::name, s.bytes, s.offset, blocks * s.bytes);
  return {};
}

}  // namespace

std::string mma_refusal(gguf::TensorType format, std::uint64_t cols) {
  std::string reason;
  const bool has_streams = quant::visit_field_stream_format(
      format, [&](auto tag) { reason = mma_refusal_of<typename decltype(tag)::type>(cols); });
  if (!has_streams) return fmt::format("{} has no field-streams layout", gguf::name_of(format));
  return reason;
}

std::string mma_policy_label(const kernels::MmaPolicy& p) {
  return fmt::format("mma.sync {}x{} tile, {}x{} warps", p.tokens_tile, p.rows_tile, p.warps_tokens, p.warps_rows);
}

std::string wgmma_policy_label(const kernels::WgmmaPolicy& p) {
  return fmt::format("wgmma {}x{} tile, {} warpgroup{}, {} blocks/SM", p.tokens_tile, p.rows_tile(), p.warpgroups,
                     p.warpgroups > 1 ? "s" : "", p.min_blocks_per_sm);
}

std::vector<PrefillCase> plan_prefill(const std::vector<std::string>& shapes,
                                      const std::vector<gguf::TensorType>& formats,
                                      const std::vector<std::uint32_t>& tokens) {
  std::vector<PrefillCase> cases;
  for (const std::string& name : shapes) {
    const auto& shape = model::find_shape(name);
    for (const Projection& p : projections_of(shape)) {
      if (p.name == "output") continue;  // prefill takes the logits of its last token only: a GEMV
      for (gguf::TensorType format : formats) {
        if (!quant::visit_field_stream_format(format, [](auto) {})) continue;
        const gguf::TypeGeometry g = gguf::geometry_of(format);
        PrefillCase c{.shape = shape.name, .projection = p, .format = format};
        c.skipped = mma_refusal(format, p.cols);
        if (c.skipped.empty()) c.weight_bytes = p.rows * (p.cols / g.block_elements) * g.block_bytes;
        for (std::uint32_t m : tokens) {
          c.tokens = m;
          cases.push_back(c);
        }
      }
    }
  }
  return cases;
}

double prefill_tflops(std::uint64_t tokens, std::uint64_t rows, std::uint64_t cols, double microseconds) {
  // FLOP / (us * 1e-6) / 1e12 = FLOP / (us * 1e6)
  return microseconds > 0 ? 2.0 * static_cast<double>(tokens) * static_cast<double>(rows) *
                                static_cast<double>(cols) / (microseconds * 1e6)
                          : 0.0;
}

double percent_of_peak(double tflops, double peak_tflops) {
  return peak_tflops > 0 ? 100.0 * tflops / peak_tflops : 0.0;
}

std::vector<AttentionCase> plan_attention(const std::string& shape_name, const std::vector<std::uint32_t>& depths,
                                          const std::vector<std::uint32_t>& target_blocks, bool direct) {
  const auto& s = model::find_shape(shape_name);
  const std::vector<std::uint32_t> targets = target_blocks.empty() ? std::vector<std::uint32_t>{0} : target_blocks;
  std::vector<AttentionCase> cases;
  const std::uint64_t kv_dim = std::uint64_t{s.n_kv_heads} * s.effective_head_dim();
  const auto at_depth = [&](std::uint32_t depth) {
    return AttentionCase{.shape = s.name,
                         .n_heads = s.n_heads,
                         .n_kv_heads = s.n_kv_heads,
                         .head_dim = s.effective_head_dim(),
                         .depth = depth,
                         .kv_bytes = 2 * 2 * std::uint64_t{depth} * kv_dim};
  };
  for (std::uint32_t depth : depths) {
    for (std::uint32_t target : targets) {
      cases.push_back(at_depth(depth));
      cases.back().target_blocks = target;
    }
    if (direct) {
      cases.push_back(at_depth(depth));
      cases.back().direct = true;
    }
  }
  return cases;
}

std::vector<PrefillAttentionCase> plan_prefill_attention(const std::string& shape_name,
                                                         const std::vector<std::uint32_t>& tokens) {
  const auto& s = model::find_shape(shape_name);
  const std::uint64_t q_dim = std::uint64_t{s.n_heads} * s.effective_head_dim(),
                      kv_dim = std::uint64_t{s.n_kv_heads} * s.effective_head_dim();
  std::vector<PrefillAttentionCase> cases;
  for (std::uint32_t n : tokens)
    cases.push_back({.shape = s.name,
                     .n_heads = s.n_heads,
                     .n_kv_heads = s.n_kv_heads,
                     .head_dim = s.effective_head_dim(),
                     .tokens = n,
                     .input_bytes = std::uint64_t{n} * (4 * q_dim + 2 * 2 * kv_dim)});
  return cases;
}

double prefill_attention_flops(std::uint32_t n_heads, std::uint32_t head_dim, std::uint64_t tokens) {
  const double pairs = static_cast<double>(tokens) * static_cast<double>(tokens + 1) / 2;  // sum_{t=1..tokens} t
  return 4.0 * n_heads * head_dim * pairs;
}

double tflops_of(double flops, double microseconds) {
  return microseconds > 0 ? flops / (microseconds * 1e6) : 0.0;  // FLOP / (us * 1e-6) / 1e12
}

std::string sampler_policy_label(const SamplerPolicy& p) {
  return fmt::format("prefilter {}x{} / final {}x{}", p.prefilter_threads, p.prefilter_items, p.final_threads,
                     p.final_items);
}

const std::vector<NamedSamplingParams>& sampling_parameter_sets() {
  static const std::vector<NamedSamplingParams> sets = [] {
    const auto make = [](float temperature, int top_k, float top_p, float min_p, float repeat = 1.0f,
                         float frequency = 0.0f, float presence = 0.0f) {
      runtime::SamplingParams p;
      p.temperature = temperature;
      p.top_k = top_k;
      p.top_p = top_p;
      p.min_p = min_p;
      p.repeat_penalty = repeat;
      p.frequency_penalty = frequency;
      p.presence_penalty = presence;
      return p;
    };
    return std::vector<NamedSamplingParams>{
        {"defaults", runtime::SamplingParams{}},
        {"greedy", make(0.0f, 40, 0.95f, 0.05f)},
        {"defaults+penalties", make(0.8f, 40, 0.95f, 0.05f, 1.1f, 0.5f, 0.5f)},
        {"top_k=0 top_p=0.9", make(1.0f, 0, 0.9f, 0.0f)},
        {"top_k=256 top_p=0.98", make(1.0f, 256, 0.98f, 0.0f)},
    };
  }();
  return sets;
}

std::vector<SamplingCase> plan_sampling(std::uint64_t vocab, const std::vector<SamplerPolicy>& policies) {
  if (policies.empty()) fail("plan_sampling: no policy (the first is the default one)");
  const auto params_of = [](std::string_view name) -> const runtime::SamplingParams& {
    for (const NamedSamplingParams& set : sampling_parameter_sets())
      if (set.name == name) return set.params;
    fail("plan_sampling: no parameter set named '{}'", name);
  };
  std::vector<SamplingCase> cases;
  const auto add = [&](std::string_view name, const SamplerPolicy& policy, std::uint64_t n) {
    const bool planned = std::ranges::any_of(cases, [&](const SamplingCase& c) {
      return c.parameters == name && c.policy == policy && c.vocab == n;
    });
    if (planned) return;
    cases.push_back({.parameters = std::string(name),
                     .params = params_of(name),
                     .policy = policy,
                     .default_policy = policy == policies.front(),
                     .vocab = n});
  };
  for (const NamedSamplingParams& set : sampling_parameter_sets()) add(set.name, policies.front(), vocab);
  for (const SamplerPolicy& policy : policies) {
    for (const char* name : block_top_k_parameter_sets) add(name, policy, vocab);
    add("defaults", policy, static_cast<std::uint64_t>(policy.final_capacity()));
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
