#include "kernel_bench/options.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/model/synthetic.hpp"

namespace pagoda::kernel_bench {

namespace {

using bench::FlagName;
using bench::UsageError;

constexpr FlagName help_flag{"-h", "--help"};
constexpr FlagName shapes_flag{"", "--shapes"};
constexpr FlagName formats_flag{"", "--formats"};
constexpr FlagName attention_shape_flag{"", "--attention-shape"};
constexpr FlagName depths_flag{"", "--depths"};
constexpr FlagName attention_blocks_flag{"", "--attention-blocks"};
constexpr FlagName attention_direct_flag{"", "--attention-direct"};
constexpr FlagName samples_flag{"", "--samples"};
constexpr FlagName no_gemv_flag{"", "--no-gemv"};
constexpr FlagName no_attention_flag{"", "--no-attention"};
constexpr FlagName tokens_flag{"", "--tokens"};
constexpr FlagName tc_peak_flag{"", "--tc-peak-tflops"};
constexpr FlagName prefill_flag{"", "--prefill"};
constexpr FlagName no_prefill_flag{"", "--no-prefill"};
constexpr FlagName attention_tokens_flag{"", "--attention-tokens"};
constexpr FlagName no_prefill_attention_flag{"", "--no-prefill-attention"};
constexpr FlagName sampling_vocab_flag{"", "--sampling-vocab"};
constexpr FlagName no_sampling_flag{"", "--no-sampling"};
constexpr FlagName output_flag{"-o", "--output"};
constexpr FlagName save_flag{"", "--save"};
constexpr FlagName probe_flag{"", "--probe-mib"};

// A library error about a value, as a usage error naming the flag.
template <class Fn>
auto for_flag(const FlagName& flag, Fn&& parse) {
  try {
    return parse();
  } catch (const Error& e) {
    throw UsageError(fmt::format("{}: {}", flag.text(), e.what()));
  }
}

std::vector<std::string> parse_shapes(const FlagName& flag, std::string_view text) {
  auto names = bench::split_list(flag, text);
  for (const auto& name : names) (void)for_flag(flag, [&] { return model::find_shape(name).name; });
  return names;
}

std::vector<gguf::TensorType> parse_formats(std::string_view text) {
  std::vector<gguf::TensorType> formats;
  for (const auto& name : bench::split_list(formats_flag, text)) {
    const auto format = for_flag(formats_flag, [&] { return model::parse_format(name); });
    if (std::ranges::find(formats, format) != formats.end())
      throw UsageError(fmt::format("{}: {} is listed twice", formats_flag.text(), gguf::name_of(format)));
    formats.push_back(format);
  }
  return formats;
}

// A decimal number in [0, max_tc_peak_tflops].
double parse_tflops(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() ||
      !(value >= 0 && value <= max_tc_peak_tflops))
    throw UsageError(fmt::format("{} must be a number between 0 and {} (got '{}')", tc_peak_flag.text(),
                                 max_tc_peak_tflops, text));
  return value;
}

}  // namespace

std::vector<gguf::TensorType> default_formats() {
  using T = gguf::TensorType;
  return {T::Q4_0, T::Q4_1, T::Q5_0, T::Q5_1, T::Q8_0, T::Q2_K, T::Q3_K, T::Q4_K, T::Q5_K, T::Q6_K, T::F16};
}

std::string kernel_bench_usage() {
  return R"(pagoda-kernel-bench: pagoda's decode kernels against the measured HBM read bandwidth,
its prefill matmuls and prefill attention in TFLOP/s, and the sampler in µs
usage: pagoda-kernel-bench [options]

  --shapes LIST           model shapes for the GEMVs and prefill matmuls
                          (default smollm2-135m,llama-3.2-1b,llama-3-8b)
  --formats LIST          formats (default Q4_0,Q4_1,Q5_0,Q5_1,Q8_0,Q2_K,Q3_K,Q4_K,Q5_K,Q6_K,F16;
                          prefill takes those with a field-streams layout)
  --attention-shape NAME  shape for attention decode and prefill attention (default llama-3-8b)
  --depths LIST           KV depths for attention decode (default 512,4096,16384,32768)
  --attention-blocks LIST attention decode's grid aimed at each of these block counts in
                          turn, in place of its policy's (default: the policy's alone)
  --attention-direct      attention decode in one launch too (attention_decode_direct, the
                          engine's choice at short contexts), a row per depth
  --tokens LIST           tokens (M) of each prefill matmul (default 128,512,2048; at most 32768)
  --attention-tokens LIST prompt lengths for prefill attention, from position 0
                          (default 512,2048,8192; at most 32768)
  --sampling-vocab N      vocabulary of the sampling section (default 128256)
  --tc-peak-tflops X      tensor-core peak to give prefill TFLOP/s as a share of (default 0: none)
  --samples N             timed CUDA-graph replays per case, median reported (default 50, at least 50)
  --no-gemv               skip the GEMVs
  --no-attention          skip attention decode
  --no-prefill            skip the prefill matmuls (--prefill: run them, the default)
  --no-prefill-attention  skip prefill attention
  --no-sampling           skip the sampler
  -o, --output FMT        md, csv or json on stdout (default md)
  --save PATH             also write the report to PATH (.md, .csv or .json); repeatable
  --probe-mib N           buffer size of the streaming-read probe (default 1024)
  -h, --help              show this help

Each case: inputs filled with non-zero random data; one graph replay walks
through enough copies of the weights (or KV caches) to exceed a few times
L2, so no repeat is served from cache; per-launch time = replay / copies.
A prefill matmul reads its weights several times from L2 anyway: its copies
exceed L2 once. Prefill times matmul_mma_streams under each tile policy
(stderr) and its own choice (the table), beside matmul_q_streams. Prefill
attention: kernels::attention_prefill over each prompt from position 0,
TFLOP/s of the causal FLOPs; its q, K and V copies exceed L2 once. Sampling:
kernels::Sampler on fixed random logits, each parameter set under the default
block_top_k policy and the block_top_k sets under every policy, one sample()
per event pair on a stream and per replay of a one-call graph.
)";
}

KernelBenchOptions parse_kernel_bench_arguments(std::vector<std::string> args) {
  KernelBenchOptions o;
  o.formats = default_formats();
  bench::ArgumentCursor cursor(std::move(args));
  while (!cursor.done()) {
    const std::string_view flag = cursor.next_flag();
    if (help_flag.matches(flag)) {
      o.help = true;
      return o;
    } else if (shapes_flag.matches(flag)) {
      o.shapes = parse_shapes(shapes_flag, cursor.value(shapes_flag));
    } else if (formats_flag.matches(flag)) {
      o.formats = parse_formats(cursor.value(formats_flag));
    } else if (attention_shape_flag.matches(flag)) {
      const auto names = parse_shapes(attention_shape_flag, cursor.value(attention_shape_flag));
      if (names.size() != 1)
        throw UsageError(fmt::format("{}: one shape, not {}", attention_shape_flag.text(), names.size()));
      o.attention_shape = names.front();
    } else if (depths_flag.matches(flag)) {
      o.depths = bench::parse_count_list(depths_flag, cursor.value(depths_flag), 1, 1u << 20);
    } else if (attention_blocks_flag.matches(flag)) {
      o.attention_blocks =
          bench::parse_count_list(attention_blocks_flag, cursor.value(attention_blocks_flag), 1, 65535);
    } else if (attention_direct_flag.matches(flag)) {
      cursor.no_value(attention_direct_flag);
      o.attention_direct = true;
    } else if (tokens_flag.matches(flag)) {
      o.tokens = bench::parse_count_list(tokens_flag, cursor.value(tokens_flag), 1, max_prefill_tokens);
    } else if (attention_tokens_flag.matches(flag)) {
      o.attention_tokens =
          bench::parse_count_list(attention_tokens_flag, cursor.value(attention_tokens_flag), 1, max_prefill_tokens);
    } else if (sampling_vocab_flag.matches(flag)) {
      o.sampling_vocab = static_cast<std::uint32_t>(
          bench::parse_count(sampling_vocab_flag, cursor.value(sampling_vocab_flag), 1, max_sampling_vocab));
    } else if (tc_peak_flag.matches(flag)) {
      o.tc_peak_tflops = parse_tflops(cursor.value(tc_peak_flag));
    } else if (samples_flag.matches(flag)) {
      o.samples = static_cast<std::uint32_t>(
          bench::parse_count(samples_flag, cursor.value(samples_flag), min_samples, 100000));
    } else if (no_gemv_flag.matches(flag)) {
      cursor.no_value(no_gemv_flag);
      o.gemv = false;
    } else if (no_attention_flag.matches(flag)) {
      cursor.no_value(no_attention_flag);
      o.attention = false;
    } else if (prefill_flag.matches(flag)) {
      cursor.no_value(prefill_flag);
      o.prefill = true;
    } else if (no_prefill_flag.matches(flag)) {
      cursor.no_value(no_prefill_flag);
      o.prefill = false;
    } else if (no_prefill_attention_flag.matches(flag)) {
      cursor.no_value(no_prefill_attention_flag);
      o.prefill_attention = false;
    } else if (no_sampling_flag.matches(flag)) {
      cursor.no_value(no_sampling_flag);
      o.sampling = false;
    } else if (output_flag.matches(flag)) {
      o.output = bench::parse_output_format(output_flag, cursor.value(output_flag));
    } else if (save_flag.matches(flag)) {
      const std::filesystem::path path = cursor.value(save_flag);
      o.saves.push_back({bench::output_format_of(save_flag, path), path});
    } else if (probe_flag.matches(flag)) {
      o.probe_mib = static_cast<std::uint32_t>(bench::parse_count(probe_flag, cursor.value(probe_flag), 64, 65536));
    } else {
      throw UsageError(fmt::format("unrecognised option '{}'", flag));
    }
  }
  if (!o.gemv && !o.attention && !o.prefill && !o.prefill_attention && !o.sampling)
    throw UsageError(
        "nothing to run: --no-gemv, --no-attention, --no-prefill, --no-prefill-attention and --no-sampling were all "
        "given");
  return o;
}

}  // namespace pagoda::kernel_bench
