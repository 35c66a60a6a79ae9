#include "kernel_bench/report.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pagoda_bench/units.hpp"

namespace pagoda::kernel_bench {

namespace {

using bench::size_text;

std::string header(const KernelReport& r) {
  std::string text = "## pagoda-kernel-bench\n\n";
  text += fmt::format("- device: {}, sm_{}{}, L2 {}\n", r.device_name, r.compute_major, r.compute_minor,
                      size_text(r.l2_bytes));
  if (r.device_read)
    text += fmt::format("- streaming read of device memory: {:.1f} GB/s ({}, median of {} passes)\n",
                        r.device_read->gb_s, size_text(r.device_read->bytes), r.device_read->passes);
  else
    text += "- streaming read of device memory: not measured\n";
  text += fmt::format("- each time: median of {} CUDA-graph replays after a warm-up replay; a replay runs the "
                      "kernel once per copy of its inputs (copies together >= {}), so repeats are not served "
                      "from L2; time per launch = replay / copies\n",
                      r.samples, size_text(r.footprint_bytes));
  return text;
}

std::string percent_cell(double gb_s, const KernelReport& r) {
  return r.device_read ? fmt::format("{:.1f}%", percent_of(gb_s, r.device_read)) : "";
}

// "Q4_0", or "Q4_0 packed" for the field-streams layout.
std::string format_label(const GemvCase& c) {
  std::string label(gguf::name_of(c.format));
  if (c.layout == quant::WeightLayout::field_streams) label += " packed";
  return label;
}

std::string gemv_table(const KernelReport& r) {
  std::string text = "### GEMV (kernels::gemv_q): one decode step's projections\n\n";
  text += "| shape | matrix | rows × cols | format | weights | µs | GB/s | % of device read |\n";
  text += "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |\n";
  for (const GemvCase& c : r.gemv) {
    const std::string dims = fmt::format("{} × {}", c.projection.rows, c.projection.cols);
    const std::string format = format_label(c);
    if (!c.skipped.empty()) {
      text += fmt::format("| {} | {} | {} | {} | - | skipped: {} | | |\n", c.shape, c.projection.name, dims, format,
                          c.skipped);
      continue;
    }
    const double gb_s = gb_per_second(c.weight_bytes, c.microseconds);
    text += fmt::format("| {} | {} | {} | {} | {} | {:.2f} | {:.1f} | {} |\n", c.shape, c.projection.name, dims,
                        format, size_text(c.weight_bytes), c.microseconds, gb_s, percent_cell(gb_s, r));
  }
  return text;
}

std::string attention_table(const KernelReport& r) {
  if (r.attention.empty()) return {};
  const AttentionCase& first = r.attention.front();
  std::string text = fmt::format(
      "### attention decode (kernels::attention_decode): {}, {} heads, {} KV heads of {}\n\n", first.shape,
      first.n_heads, first.n_kv_heads, first.head_dim);
  text += "| depth | blocks aimed | K + V bytes | µs | GB/s | % of device read |\n";
  text += "| ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const AttentionCase& c : r.attention) {
    const double gb_s = gb_per_second(c.kv_bytes, c.microseconds);
    text += fmt::format("| {} | {} | {} | {:.2f} | {:.1f} | {} |\n", c.depth,
                        c.direct                 ? std::string("one launch (a block a head)")
                        : c.target_blocks == 0 ? std::string("policy")
                                               : std::to_string(c.target_blocks),
                        size_text(c.kv_bytes), c.microseconds, gb_s, percent_cell(gb_s, r));
  }
  return text;
}

std::string peak_cell(double tflops, const KernelReport& r) {
  return fmt::format("{:.1f}%", percent_of_peak(tflops, r.tc_peak_tflops));
}

std::string prefill_table(const KernelReport& r) {
  const bool peak = r.tc_peak_tflops > 0;
  std::string text = "### prefill matmul (kernels::matmul_mma_streams, beside kernels::matmul_q_streams): "
                     "Y (M × rows) = X (M × cols) Wᵀ, weights in field streams\n\n";
  text += fmt::format("A replay's weight copies add up to at least {}; TFLOP/s = 2 × M × rows × cols / time; ",
                      size_text(r.prefill_footprint_bytes));
  text += peak ? fmt::format("% of a tensor-core peak of {:.1f} TFLOP/s (--tc-peak-tflops).", r.tc_peak_tflops)
               : std::string("no tensor-core peak given (--tc-peak-tflops).");
  text += " The tile is matmul_mma_streams's own choice; each one forced is on stderr and in the JSON.\n\n";
  text += peak ? "| shape | matrix | format | M | rows × cols | mma µs | mma TFLOP/s | mma % of peak | mma tile | "
                 "matmul_q µs | matmul_q TFLOP/s | matmul_q % of peak | speed-up |\n"
                 "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |\n"
               : "| shape | matrix | format | M | rows × cols | mma µs | mma TFLOP/s | mma tile | matmul_q µs | "
                 "matmul_q TFLOP/s | speed-up |\n"
                 "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n";
  for (const PrefillCase& c : r.prefill) {
    const std::string dims = fmt::format("{} × {}", c.projection.rows, c.projection.cols);
    const std::string lead =
        fmt::format("| {} | {} | {} | {} | {} |", c.shape, c.projection.name, gguf::name_of(c.format), c.tokens, dims);
    if (!c.skipped.empty()) {
      text += fmt::format("{} skipped: {} |{}\n", lead, c.skipped, peak ? " | | | | | | |" : " | | | | |");
      continue;
    }
    const double mma = prefill_tflops(c.tokens, c.projection.rows, c.projection.cols, c.mma_microseconds);
    const double old = prefill_tflops(c.tokens, c.projection.rows, c.projection.cols, c.matmul_q_microseconds);
    const std::string speedup =
        c.mma_microseconds > 0 ? fmt::format("{:.2f}×", c.matmul_q_microseconds / c.mma_microseconds) : "-";
    if (peak)
      text += fmt::format("{} {:.2f} | {:.1f} | {} | {} | {:.2f} | {:.1f} | {} | {} |\n", lead, c.mma_microseconds, mma,
                          peak_cell(mma, r), c.mma_policy, c.matmul_q_microseconds, old, peak_cell(old, r), speedup);
    else
      text += fmt::format("{} {:.2f} | {:.1f} | {} | {:.2f} | {:.1f} | {} |\n", lead, c.mma_microseconds, mma,
                          c.mma_policy, c.matmul_q_microseconds, old, speedup);
  }
  return text;
}

std::string prefill_attention_table(const KernelReport& r) {
  const bool peak = r.tc_peak_tflops > 0;
  const PrefillAttentionCase& first = r.prefill_attention.front();
  std::string text = fmt::format(
      "### prefill attention (kernels::attention_prefill): {}, {} heads, {} KV heads of {}, causal from position 0\n\n",
      first.shape, first.n_heads, first.n_kv_heads, first.head_dim);
  text += fmt::format("A replay's q, K and V copies add up to at least {}; TFLOP/s = 4 × heads × head_dim × "
                      "N (N + 1) / 2 / time; ",
                      size_text(r.prefill_footprint_bytes));
  text += peak ? fmt::format("% of a tensor-core peak of {:.1f} TFLOP/s (--tc-peak-tflops).\n\n", r.tc_peak_tflops)
               : std::string("no tensor-core peak given (--tc-peak-tflops).\n\n");
  text += peak ? "| tokens (N) | kernel | q + K + V | µs | TFLOP/s | % of peak |\n"
                 "| ---: | --- | ---: | ---: | ---: | ---: |\n"
               : "| tokens (N) | kernel | q + K + V | µs | TFLOP/s |\n| ---: | --- | ---: | ---: | ---: |\n";
  for (const PrefillAttentionCase& c : r.prefill_attention) {
    const double tflops = tflops_of(prefill_attention_flops(c.n_heads, c.head_dim, c.tokens), c.microseconds);
    text += fmt::format("| {} | {} | {} | {:.2f} | {:.1f} |", c.tokens, c.kernel, size_text(c.input_bytes),
                        c.microseconds, tflops);
    text += peak ? fmt::format(" {} |\n", peak_cell(tflops, r)) : std::string("\n");
  }
  return text;
}

// The case timing `parameters` under `policy` over `vocab` logits, if planned.
const SamplingCase* find_sampling(const KernelReport& r, std::string_view parameters, const SamplerPolicy& policy,
                                  std::uint64_t vocab) {
  for (const SamplingCase& c : r.sampling)
    if (c.parameters == parameters && c.policy == policy && c.vocab == vocab) return &c;
  return nullptr;
}

std::string sampling_tables(const KernelReport& r) {
  const SamplingCase& first = r.sampling.front();  // the default policy at the section's vocabulary
  std::string text = fmt::format("### sampling (kernels::Sampler): vocabulary {}, default policy {}\n\n", first.vocab,
                                 sampler_policy_label(first.policy));
  text += fmt::format("Fixed random logits, distinct; penalties over a 64-token history. Per sample(): median of {} "
                      "calls between two events on a stream, and of {} replays of a CUDA graph holding one "
                      "sample(), as a decode step replays it.\n\n",
                      r.samples, r.samples);
  text += "| parameters | path | stream µs | graph µs |\n| --- | --- | ---: | ---: |\n";
  for (const SamplingCase& c : r.sampling)
    if (c.default_policy && c.vocab == first.vocab)
      text += fmt::format("| {} | {} | {:.2f} | {:.2f} |\n", c.parameters, c.path, c.stream_microseconds,
                          c.graph_microseconds);

  std::vector<SamplerPolicy> policies;
  for (const SamplingCase& c : r.sampling)
    if (std::ranges::find(policies, c.policy) == policies.end()) policies.push_back(c.policy);
  text += fmt::format("\n### sampling: each block_top_k policy, graph µs (vocabulary {}; the final block alone: "
                      "defaults over as many logits as it holds)\n\n",
                      first.vocab);
  text += "| policy |";
  for (const char* name : block_top_k_parameter_sets) text += fmt::format(" {} |", name);
  text += " final block alone |\n| --- |";
  for (std::size_t i = 0; i < std::size(block_top_k_parameter_sets); ++i) text += " ---: |";
  text += " ---: |\n";
  const auto cell = [](const SamplingCase* c) { return c ? fmt::format("{:.2f}", c->graph_microseconds) : "-"; };
  for (const SamplerPolicy& policy : policies) {
    text += fmt::format("| {}{} |", sampler_policy_label(policy), policy == first.policy ? " (default)" : "");
    for (const char* name : block_top_k_parameter_sets)
      text += fmt::format(" {} |", cell(find_sampling(r, name, policy, first.vocab)));
    const auto capacity = static_cast<std::uint64_t>(policy.final_capacity());
    text += fmt::format(" {} ({} logits) |\n", cell(find_sampling(r, "defaults", policy, capacity)), capacity);
  }
  return text;
}

}  // namespace

std::string format_markdown(const KernelReport& r) {
  std::string text = header(r);
  if (!r.gemv.empty()) {
    text += '\n';
    text += gemv_table(r);
  }
  if (!r.attention.empty()) {
    text += '\n';
    text += attention_table(r);
  }
  if (!r.prefill.empty()) {
    text += '\n';
    text += prefill_table(r);
  }
  if (!r.prefill_attention.empty()) {
    text += '\n';
    text += prefill_attention_table(r);
  }
  if (!r.sampling.empty()) {
    text += '\n';
    text += sampling_tables(r);
  }
  return text;
}

std::string format_csv(const KernelReport& r) {
  std::string text = "kernel,shape,matrix,rows,cols,format,depth,bytes,microseconds,gb_s,percent_of_device_read,"
                     "copies,samples,skipped,tokens,tflops,percent_of_tc_peak,vocab,parameters,policy,path,"
                     "stream_microseconds\n";
  const auto percent = [&](double gb_s) { return r.device_read ? fmt::format("{:.3f}", percent_of(gb_s, r.device_read)) : ""; };
  for (const GemvCase& c : r.gemv) {
    if (!c.skipped.empty()) {
      // The reason holds no comma or quote: no quoting needed.
      text += fmt::format("gemv,{},{},{},{},{},,,,,,,,{},,,,,,,,\n", c.shape, c.projection.name, c.projection.rows,
                          c.projection.cols, format_label(c), c.skipped);
      continue;
    }
    const double gb_s = gb_per_second(c.weight_bytes, c.microseconds);
    text += fmt::format("gemv,{},{},{},{},{},,{},{:.3f},{:.3f},{},{},{},,,,,,,,,\n", c.shape, c.projection.name,
                        c.projection.rows, c.projection.cols, format_label(c), c.weight_bytes, c.microseconds,
                        gb_s, percent(gb_s), c.copies, r.samples);
  }
  for (const AttentionCase& c : r.attention) {
    const double gb_s = gb_per_second(c.kv_bytes, c.microseconds);
    // The policy column: the grid aimed at, where a sweep replaced the policy's.
    text += fmt::format("attention_decode,{},,,,F16,{},{},{:.3f},{:.3f},{},{},{},,,,,,,{},,\n", c.shape, c.depth,
                        c.kv_bytes, c.microseconds, gb_s, percent(gb_s), c.copies, r.samples,
                        c.direct                 ? std::string("one launch")
                        : c.target_blocks == 0 ? std::string()
                                               : fmt::format("{} blocks", c.target_blocks));
  }
  // Two rows per prefill case, one per kernel; the format is the field-streams layout's.
  const auto peak = [&](double tflops) {
    return r.tc_peak_tflops > 0 ? fmt::format("{:.3f}", percent_of_peak(tflops, r.tc_peak_tflops)) : "";
  };
  for (const PrefillCase& c : r.prefill) {
    const std::string format = std::string(gguf::name_of(c.format)) + " packed";
    for (const auto& [kernel, microseconds] : {std::pair{"matmul_mma_streams", c.mma_microseconds},
                                               std::pair{"matmul_q_streams", c.matmul_q_microseconds}}) {
      if (!c.skipped.empty()) {
        text += fmt::format("{},{},{},{},{},{},,,,,,,,{},{},,,,,,,\n", kernel, c.shape, c.projection.name,
                            c.projection.rows, c.projection.cols, format, c.skipped, c.tokens);
        continue;
      }
      const double tflops = prefill_tflops(c.tokens, c.projection.rows, c.projection.cols, microseconds);
      text += fmt::format("{},{},{},{},{},{},,{},{:.3f},,,{},{},,{},{:.3f},{},,,,,\n", kernel, c.shape,
                          c.projection.name, c.projection.rows, c.projection.cols, format, c.weight_bytes,
                          microseconds, c.copies, r.samples, c.tokens, tflops, peak(tflops));
    }
  }
  for (const PrefillAttentionCase& c : r.prefill_attention) {
    const double tflops = tflops_of(prefill_attention_flops(c.n_heads, c.head_dim, c.tokens), c.microseconds);
    text += fmt::format("attention_prefill,{},,,,F16,,{},{:.3f},,,{},{},,{},{:.3f},{},,,,{},\n", c.shape, c.input_bytes,
                        c.microseconds, c.copies, r.samples, c.tokens, tflops, peak(tflops), c.kernel);
  }
  // The parameter names and policy labels hold no comma or quote: no quoting needed.
  for (const SamplingCase& c : r.sampling)
    text += fmt::format("sample,,,,,,,,{:.3f},,,,{},,,,,{},{},{},{},{:.3f}\n", c.graph_microseconds, r.samples,
                        c.vocab, c.parameters, sampler_policy_label(c.policy), c.path, c.stream_microseconds);
  return text;
}

std::string format_json(const KernelReport& r) {
  using nlohmann::json;
  const auto percent = [&](double gb_s) { return r.device_read ? json(percent_of(gb_s, r.device_read)) : json(nullptr); };
  json gemv = json::array(), attention = json::array(), prefill = json::array(), prefill_attention = json::array(),
       sampling = json::array();
  for (const GemvCase& c : r.gemv) {
    json entry = {{"shape", c.shape}, {"matrix", c.projection.name}, {"rows", c.projection.rows},
                  {"cols", c.projection.cols}, {"format", gguf::name_of(c.format)},
                  {"layout", quant::name_of(c.layout)}};
    if (!c.skipped.empty()) {
      entry["skipped"] = c.skipped;
    } else {
      const double gb_s = gb_per_second(c.weight_bytes, c.microseconds);
      entry.update({{"weight_bytes", c.weight_bytes}, {"microseconds", c.microseconds}, {"gb_s", gb_s},
                    {"percent_of_device_read", percent(gb_s)}, {"copies", c.copies}});
    }
    gemv.push_back(entry);
  }
  for (const AttentionCase& c : r.attention) {
    const double gb_s = gb_per_second(c.kv_bytes, c.microseconds);
    attention.push_back({{"shape", c.shape}, {"n_heads", c.n_heads}, {"n_kv_heads", c.n_kv_heads},
                         {"head_dim", c.head_dim}, {"depth", c.depth}, {"target_blocks", c.target_blocks},
                         {"direct", c.direct},
                         {"kv_bytes", c.kv_bytes},
                         {"microseconds", c.microseconds}, {"gb_s", gb_s}, {"percent_of_device_read", percent(gb_s)},
                         {"copies", c.copies}});
  }
  const auto kernel_entry = [&](const PrefillCase& c, double microseconds) {
    const double tflops = prefill_tflops(c.tokens, c.projection.rows, c.projection.cols, microseconds);
    return json{{"microseconds", microseconds}, {"tflops", tflops},
                {"percent_of_tc_peak",
                 r.tc_peak_tflops > 0 ? json(percent_of_peak(tflops, r.tc_peak_tflops)) : json(nullptr)}};
  };
  for (const PrefillCase& c : r.prefill) {
    json entry = {{"shape", c.shape}, {"matrix", c.projection.name}, {"rows", c.projection.rows},
                  {"cols", c.projection.cols}, {"format", gguf::name_of(c.format)},
                  {"layout", quant::name_of(quant::WeightLayout::field_streams)}, {"tokens", c.tokens}};
    if (!c.skipped.empty()) {
      entry["skipped"] = c.skipped;
    } else {
      json mma = kernel_entry(c, c.mma_microseconds);
      mma["policy"] = c.mma_policy;
      json forced = json::array();
      for (const MmaPolicyTime& p : c.mma_forced) {
        json one = kernel_entry(c, p.microseconds);
        one["policy"] = p.policy;
        forced.push_back(one);
      }
      mma["forced_policies"] = forced;
      entry.update({{"weight_bytes", c.weight_bytes}, {"copies", c.copies}, {"matmul_mma_streams", mma},
                    {"matmul_q_streams", kernel_entry(c, c.matmul_q_microseconds)}});
    }
    prefill.push_back(entry);
  }
  for (const PrefillAttentionCase& c : r.prefill_attention) {
    const double flops = prefill_attention_flops(c.n_heads, c.head_dim, c.tokens);
    const double tflops = tflops_of(flops, c.microseconds);
    prefill_attention.push_back(
        {{"shape", c.shape}, {"n_heads", c.n_heads}, {"n_kv_heads", c.n_kv_heads}, {"head_dim", c.head_dim},
         {"start", 0}, {"tokens", c.tokens}, {"input_bytes", c.input_bytes}, {"flops", flops}, {"kernel", c.kernel},
         {"microseconds", c.microseconds}, {"tflops", tflops},
         {"percent_of_tc_peak", r.tc_peak_tflops > 0 ? json(percent_of_peak(tflops, r.tc_peak_tflops)) : json(nullptr)},
         {"copies", c.copies}});
  }
  for (const SamplingCase& c : r.sampling) {
    const runtime::SamplingParams& p = c.params;
    sampling.push_back(
        {{"parameters", c.parameters},
         {"params", {{"temperature", p.temperature}, {"top_k", p.top_k}, {"top_p", p.top_p}, {"min_p", p.min_p},
                     {"repeat_penalty", p.repeat_penalty}, {"frequency_penalty", p.frequency_penalty},
                     {"presence_penalty", p.presence_penalty}, {"penalty_last_n", p.penalty_last_n}}},
         {"policy", {{"label", sampler_policy_label(c.policy)},
                     {"prefilter", {{"threads", c.policy.prefilter_threads}, {"items", c.policy.prefilter_items}}},
                     {"final_block", {{"threads", c.policy.final_threads}, {"items", c.policy.final_items}}},
                     {"max_prefilter_k", c.policy.max_prefilter_k}}},
         {"default_policy", c.default_policy}, {"vocab", c.vocab}, {"path", c.path},
         {"stream_microseconds", c.stream_microseconds}, {"graph_microseconds", c.graph_microseconds}});
  }
  const json device_read = r.device_read ? json{{"gb_s", r.device_read->gb_s}, {"bytes", r.device_read->bytes},
                                                {"passes", r.device_read->passes}}
                                         : json(nullptr);
  const json doc = {{"machine", {{"device", r.device_name},
                                 {"compute_capability", fmt::format("{}.{}", r.compute_major, r.compute_minor)},
                                 {"l2_bytes", r.l2_bytes},
                                 {"device_read", device_read}}},
                    {"samples", r.samples},
                    {"footprint_bytes", r.footprint_bytes},
                    {"prefill_footprint_bytes", r.prefill_footprint_bytes},
                    {"tc_peak_tflops", r.tc_peak_tflops > 0 ? json(r.tc_peak_tflops) : json(nullptr)},
                    {"gemv", gemv},
                    {"attention_decode", attention},
                    {"prefill_matmul", prefill},
                    {"prefill_attention", prefill_attention},
                    {"sampling", sampling}};
  return doc.dump(2) + "\n";
}

std::string format_report(bench::OutputFormat format, const KernelReport& report) {
  switch (format) {
    case bench::OutputFormat::markdown: return format_markdown(report);
    case bench::OutputFormat::csv: return format_csv(report);
    case bench::OutputFormat::json: return format_json(report);
  }
  return format_markdown(report);
}

}  // namespace pagoda::kernel_bench
