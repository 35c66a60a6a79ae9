#include "pagoda_bench/options.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/mapping/anonymous_mapping.hpp"
#include "pagoda_bench/test_plan.hpp"

namespace pagoda::bench {

namespace {

constexpr FlagName help_flag{"-h", "--help"};
constexpr FlagName model_flag{"-m", "--model"};
constexpr FlagName prompt_flag{"-p", "--n-prompt"};
constexpr FlagName gen_flag{"-n", "--n-gen"};
constexpr FlagName prompt_gen_flag{"-pg", ""};
constexpr FlagName depth_flag{"-d", "--n-depth"};
constexpr FlagName repetitions_flag{"-r", "--repetitions"};
constexpr FlagName mapping_flag{"", "--mapping"};
constexpr FlagName hugepage_size_flag{"", "--hugepage-size"};
constexpr FlagName no_fallback_flag{"", "--no-fallback"};
constexpr FlagName no_pdl_flag{"", "--no-pdl"};
constexpr FlagName no_wgmma_flag{"", "--no-wgmma"};
constexpr FlagName layout_flag{"", "--layout"};
constexpr FlagName decode_flag{"", "--decode"};
constexpr FlagName prefetch_flag{"", "--prefetch"};
constexpr FlagName direct_attention_flag{"", "--direct-attention-rows"};
constexpr FlagName output_flag{"-o", "--output"};
constexpr FlagName save_flag{"", "--save"};
constexpr FlagName batch_flag{"-b", "--batch-size"};
constexpr FlagName seed_flag{"", "--seed"};
constexpr FlagName no_warmup_flag{"", "--no-warmup"};
constexpr FlagName no_graph_flag{"", "--no-cuda-graph"};
constexpr FlagName probe_flag{"", "--probe-mib"};
constexpr FlagName verbose_flag{"-v", "--verbose"};
constexpr FlagName summary_flag{"", "--summary"};
constexpr FlagName step_timeline_flag{"", "--step-timeline"};

std::vector<MappingChoice> parse_mappings(std::string_view text) {
  std::vector<MappingChoice> choices;
  for (const std::string& item : split_list(mapping_flag, text)) {
    MappingChoice choice;
    try {
      choice.policy = mapping::parse_policy_choice(item);
    } catch (const Error& e) {
      throw UsageError(fmt::format("{}: {}", mapping_flag.text(), e.what()));
    }
    if (std::ranges::find(choices, choice) != choices.end())
      throw UsageError(fmt::format("{}: {} is listed twice", mapping_flag.text(), choice.name()));
    choices.push_back(choice);
  }
  return choices;
}

PromptGen parse_prompt_gen(std::string_view text) {
  const auto items = split_list(prompt_gen_flag, text);
  if (items.size() != 2)
    throw UsageError(fmt::format("{}: expected two numbers 'prompt,gen' (got '{}')", prompt_gen_flag.text(), text));
  return {static_cast<std::uint32_t>(parse_count(prompt_gen_flag, items[0], 1, max_tokens_per_test)),
          static_cast<std::uint32_t>(parse_count(prompt_gen_flag, items[1], 1, max_tokens_per_test))};
}

// Cross-flag checks, once everything is read.
void validate(const BenchOptions& o) {
  if (!o.summaries.empty()) {
    if (!o.models.empty())
      throw UsageError(fmt::format("{}: merges saved reports and runs nothing; give no {}", summary_flag.text(),
                                   model_flag.text()));
    return;
  }
  if (o.models.empty()) throw UsageError(fmt::format("{}: at least one model is required", model_flag.text()));
  const bool any_prompt = std::ranges::any_of(o.n_prompt, [](std::uint32_t n) { return n > 0; });
  const bool any_gen = std::ranges::any_of(o.n_gen, [](std::uint32_t n) { return n > 0; });
  if (!any_prompt && !any_gen && o.prompt_gen.empty())
    throw UsageError(fmt::format("nothing to run: every {} and {} value is 0 and no {} was given",
                                 prompt_flag.text(), gen_flag.text(), prompt_gen_flag.text()));
  for (const BenchTest& test : plan_tests(o))
    if (test.positions() > max_tokens_per_test)
      throw UsageError(fmt::format("{}: {} fills {} positions, more than {}", depth_flag.text(), test.name(),
                                   test.positions(), max_tokens_per_test));
}

}  // namespace

std::string MappingChoice::name() const { return policy ? std::string(mapping::name_of(*policy)) : "auto"; }

std::string bench_usage() {
  return R"(pagoda-bench: token throughput of pagoda's CUDA engine under each mapping policy
usage: pagoda-bench -m MODEL.gguf [-m ...] [options]

  -m, --model FILE        GGUF model; repeat or give a comma list
  -p, --n-prompt N        prompt sizes to time as prefill (default 512; 0 skips)
  -n, --n-gen N           generation sizes to time as decode (default 128; 0 skips)
  -pg P,G                 prompt of P then G generated, timed together; repeatable
  -d, --n-depth N         KV cache depth filled first, untimed (default 0)
  -r, --repetitions N     timed repetitions per test, after one warm-up (default 5)
  --mapping LIST          auto, device-copy, host-registered, hmm-direct, hugepage-import
                          (or device, host, hmm, hugepage); default auto
  --hugepage-size SIZE    hugepage-import's pages: auto, 1g, 2m or none (default auto)
  --no-fallback           a policy's own fallback (no hugetlb pages -> THP) is a refusal,
                          not a reported substitute
  -o, --output FMT        md, csv or json on stdout (default md)
  --save PATH             also write the report to PATH (.md, .csv or .json); repeatable
  -b, --batch-size N      prefill chunk in tokens (default 512)
  --seed N                seed of the random token ids (default 1)
  --no-warmup             skip the warm-up repetition
  --no-cuda-graph         decode without replaying a captured CUDA graph
  --no-pdl                launch the decode GEMVs (and the batched step's products) without
                          programmatic dependent launch
  --no-wgmma              multiply prompts on mma.sync even where wgmma runs (H100, H200);
                          -v's placement report names the GEMM each matrix takes
  --layout L              weight layout: auto (the policy's best), gguf (the file's blocks)
                          or packed (field streams; an error where the policy cannot offer it)
  --decode D              one-token step: auto (the engine's choice, said in -v's report), graph
                          (the step's kernels as one CUDA graph) or persistent (one launch; an
                          error, with the reason, where the model cannot take it)
  --prefetch              the persistent step stages each block's next item's weights ahead (measured slower so far)
  --direct-attention-rows N  the graph's step takes attention in one launch while it sees at most N
                          rows, split and merged after (default: the engine's; 0: split always)
  --probe-mib N           buffer size of the start-up streaming-read probes (default 1024)
  -v, --verbose           print each load's full placement report on stderr
  --step-timeline PATH    profiling builds (-DPAGODA_STEP_STAMPS=ON): after each generation
                          test, one more untimed run whose last decode step's kernel stamps
                          (block start, PDL wait passed, x ready, done; ns) go to PATH as CSV
  --summary FILES         merge JSON reports saved by earlier runs (comma list) into one
                          markdown table, a row per model and policy; runs nothing
  -h, --help              show this help

N lists: 128,512 or ranges first-last, first-last+step, first-last*mult.
Tokens are random ids (seeded), so sizes are in tokens. Each test is one
warm-up then -r timed repetitions; t/s is the mean over repetitions +- the
sample standard deviation. A policy this machine cannot do is a 'refused' row.
)";
}

BenchOptions parse_bench_arguments(std::vector<std::string> args) {
  BenchOptions o;
  bool prompts_given = false, gens_given = false, depths_given = false, mappings_given = false;
  ArgumentCursor cursor(std::move(args));
  const auto set_once = [](bool& given, const FlagName& flag) {
    if (given) throw UsageError(fmt::format("{}: given twice; use one comma list", flag.text()));
    given = true;
  };
  while (!cursor.done()) {
    const std::string_view flag = cursor.next_flag();
    if (help_flag.matches(flag)) {
      o.help = true;
      return o;
    } else if (model_flag.matches(flag)) {
      for (auto& m : split_list(model_flag, cursor.value(model_flag))) o.models.push_back(std::move(m));
    } else if (prompt_flag.matches(flag)) {
      set_once(prompts_given, prompt_flag);
      o.n_prompt = parse_count_list(prompt_flag, cursor.value(prompt_flag), 0, max_tokens_per_test);
    } else if (gen_flag.matches(flag)) {
      set_once(gens_given, gen_flag);
      o.n_gen = parse_count_list(gen_flag, cursor.value(gen_flag), 0, max_tokens_per_test);
    } else if (prompt_gen_flag.matches(flag)) {
      o.prompt_gen.push_back(parse_prompt_gen(cursor.value(prompt_gen_flag)));
    } else if (depth_flag.matches(flag)) {
      set_once(depths_given, depth_flag);
      o.n_depth = parse_count_list(depth_flag, cursor.value(depth_flag), 0, max_tokens_per_test);
    } else if (repetitions_flag.matches(flag)) {
      o.repetitions =
          static_cast<std::uint32_t>(parse_count(repetitions_flag, cursor.value(repetitions_flag), 1, max_repetitions));
    } else if (mapping_flag.matches(flag)) {
      set_once(mappings_given, mapping_flag);
      o.mappings = parse_mappings(cursor.value(mapping_flag));
    } else if (hugepage_size_flag.matches(flag)) {
      o.hugepage_size = cursor.value(hugepage_size_flag);
      try {
        (void)mapping::parse_hugepage_size(o.hugepage_size);
      } catch (const Error& e) {
        throw UsageError(fmt::format("{}: {}", hugepage_size_flag.text(), e.what()));
      }
    } else if (no_fallback_flag.matches(flag)) {
      cursor.no_value(no_fallback_flag);
      o.no_fallback = true;
    } else if (output_flag.matches(flag)) {
      o.output = parse_output_format(output_flag, cursor.value(output_flag));
    } else if (save_flag.matches(flag)) {
      const std::filesystem::path path = cursor.value(save_flag);
      o.saves.push_back({output_format_of(save_flag, path), path});
    } else if (batch_flag.matches(flag)) {
      o.batch = static_cast<std::uint32_t>(parse_count(batch_flag, cursor.value(batch_flag), 1, 8192));
    } else if (seed_flag.matches(flag)) {
      o.seed = parse_count(seed_flag, cursor.value(seed_flag), 0, UINT64_MAX);
    } else if (no_warmup_flag.matches(flag)) {
      cursor.no_value(no_warmup_flag);
      o.warmup = false;
    } else if (no_graph_flag.matches(flag)) {
      cursor.no_value(no_graph_flag);
      o.cuda_graph = false;
    } else if (layout_flag.matches(flag)) {
      const std::string value = cursor.value(layout_flag);
      const auto layout = pagoda::quant::parse_layout_choice(value);
      if (!layout)
        throw UsageError(fmt::format("{}: '{}' is not one of {}", layout_flag.text(), value,
                                     pagoda::quant::layout_choice_names));
      o.layout = *layout;
    } else if (decode_flag.matches(flag)) {
      const std::string value = cursor.value(decode_flag);
      const auto decode = pagoda::runtime::parse_decode_path(value);
      if (!decode)
        throw UsageError(fmt::format("{}: '{}' is not one of {}", decode_flag.text(), value,
                                     pagoda::runtime::decode_path_names));
      o.decode = *decode;
    } else if (prefetch_flag.matches(flag)) {
      cursor.no_value(prefetch_flag);
      o.prefetch = true;
    } else if (direct_attention_flag.matches(flag)) {
      o.direct_attention_rows =
          static_cast<std::uint32_t>(parse_count(direct_attention_flag, cursor.value(direct_attention_flag), 0,
                                                 std::uint64_t{1} << 31));
    } else if (no_wgmma_flag.matches(flag)) {
      cursor.no_value(no_wgmma_flag);
      o.wgmma = false;
    } else if (no_pdl_flag.matches(flag)) {
      cursor.no_value(no_pdl_flag);
      o.programmatic_launch = false;
    } else if (probe_flag.matches(flag)) {
      o.probe_mib = static_cast<std::uint32_t>(parse_count(probe_flag, cursor.value(probe_flag), 64, 65536));
    } else if (step_timeline_flag.matches(flag)) {
      o.step_timeline = cursor.value(step_timeline_flag);
    } else if (summary_flag.matches(flag)) {
      for (auto& f : split_list(summary_flag, cursor.value(summary_flag))) o.summaries.push_back(std::move(f));
    } else if (verbose_flag.matches(flag)) {
      cursor.no_value(verbose_flag);
      o.verbose = true;
    } else {
      throw UsageError(fmt::format("unrecognised option '{}'", flag));
    }
  }
  validate(o);
  return o;
}

void check_models_exist(std::span<const std::string> models) {
  for (const std::string& model : models) {
    std::error_code error;
    if (!std::filesystem::exists(model, error))
      throw UsageError(fmt::format("{}: {}: no such file", model_flag.text(), model));
    if (!std::filesystem::is_regular_file(model, error))
      throw UsageError(fmt::format("{}: {}: not a regular file", model_flag.text(), model));
    if (!std::ifstream(model, std::ios::binary))
      throw UsageError(fmt::format("{}: {}: cannot be read", model_flag.text(), model));
  }
}

}  // namespace pagoda::bench
