#include "engine_bench.hpp"
#include "step_timeline.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/policy_list.hpp"
#include "pagoda/mapping/policy_options.hpp"
#include "pagoda/mapping/selection.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda/runtime/engine.hpp"
#include "pagoda_bench/process_memory.hpp"
#include "pagoda_bench/units.hpp"

namespace pagoda::bench {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

template <class... Args>
void progress(fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(stderr, "pagoda-bench: {}\n", fmt::format(format, std::forward<Args>(args)...));
}

// Random token ids below the vocabulary, drawn before timing starts.
std::vector<std::int32_t> random_tokens(std::mt19937_64& rng, std::uint32_t vocab, std::uint32_t count) {
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(vocab) - 1);
  std::vector<std::int32_t> tokens(count);
  for (auto& t : tokens) t = id(rng);
  return tokens;
}

template <class Engine>
TestResult run_test(Engine& engine, const BenchTest& test, const ModelInfo& model, std::uint64_t seed,
                    const BenchOptions& options) {
  std::mt19937_64 rng(seed);
  const auto depth = random_tokens(rng, model.vocab, test.n_depth);
  const auto prompt = random_tokens(rng, model.vocab, test.n_prompt);
  const auto generated = random_tokens(rng, model.vocab, test.n_gen);
  TestResult result{.test = test};
  const std::uint32_t warmups = options.warmup ? 1 : 0;
  for (std::uint32_t r = 0; r < warmups + options.repetitions; ++r) {
    engine.rewind(0);
    if (!depth.empty()) (void)engine.prefill(depth);  // untimed: the KV cache the test starts from
    const auto start = Clock::now();
    if (!prompt.empty()) (void)engine.prefill(prompt);
    for (std::int32_t token : generated) (void)engine.decode(token);
    const double seconds = seconds_since(start);
    if (r >= warmups) result.seconds.push_back(seconds);
  }
  if (!options.step_timeline.empty() && test.is_generation()) {  // untimed: the last step's stamps
    engine.rewind(0);
    if (!depth.empty()) (void)engine.prefill(depth);
    for (std::size_t t = 0; t + 1 < generated.size(); ++t) (void)engine.decode(generated[t]);
    kernels::step_stamps::reset();
    (void)engine.decode(generated.back());
    append_step_timeline(options.step_timeline, model.name, test.name(), kernels::step_stamps::read());
  }
  return result;
}

template <class Policy>
void run_policy(PolicyRun& run, const BenchContext& context) {
  const auto rss_before = resident_memory();
  const auto free_before = pagoda::device_memory_info("before the load").free_bytes;
  const auto start = Clock::now();
  std::unique_ptr<gguf::MappedFile> file;
  std::unique_ptr<runtime::Engine<Policy>> engine;  // declared after the file: destroyed first
  double open_seconds = 0;
  try {
    file = gguf::MappedFile::open(run.model.path);
    open_seconds = seconds_since(start);
    engine = std::make_unique<runtime::Engine<Policy>>(
        *file, mapping::policy_options<Policy>({context.options.hugepage_size, context.options.no_fallback}),
        context.engine);
  } catch (const std::exception& e) {
    run.status = RunStatus::refused;
    run.reason = e.what();
    progress("{} / {}: refused: {}", run.model.name, run.policy_label(), run.reason);
    return;
  }
  LoadInfo& load = run.load;
  load.seconds = seconds_since(start);
  const mapping::PlacementReport placement = engine->placement();
  const auto free_after = pagoda::device_memory_info("after the load").free_bytes;
  const auto rss_after = resident_memory();
  load.placement_seconds = placement.total_seconds;
  load.vram_delta_bytes = placement.vram_delta_bytes;
  load.engine_vram_delta_bytes = static_cast<std::int64_t>(free_before) - static_cast<std::int64_t>(free_after);
  load.working_vram_bytes = engine->working_vram_bytes();
  load.host_registered_bytes = placement.host_registered_bytes;
  load.page_cache_bytes = placement.page_cache_bytes;
  load.hugepage_bytes = placement.hugepage_bytes;
  if (rss_after) {
    load.rss_bytes = rss_after->rss_bytes;
    load.rss_file_bytes = rss_after->rss_file_bytes;
    if (rss_before)
      load.rss_delta_bytes = static_cast<std::int64_t>(rss_after->rss_bytes) - static_cast<std::int64_t>(rss_before->rss_bytes);
  }
  load.placement = mapping::to_string(placement);
  load.fallbacks = placement.fallbacks;
  progress("{} / {}: loaded in {:.2f} s; VRAM {}, RSS {}, pinned host {}", run.model.name, run.policy_label(),
           load.seconds, signed_size_text(load.engine_vram_delta_bytes), size_text(load.rss_bytes),
           size_text(load.host_registered_bytes));
  if (context.options.verbose) {
    // Where the load went: the GGUF parse, then each stage of the engine's
    // constructor (the policy's own split is in its report, next line).
    progress("  load: open and parse {:.3f} s, {}", open_seconds, runtime::to_string(engine->load_times()));
    progress("  {}", load.placement);
  }

  const Roofline roofline{run.model.weight_bytes_per_token, run.link_gb_s, run.model.kv_bytes_per_position,
                          context.machine.device_read ? context.machine.device_read->gb_s : 0.0};
  for (std::size_t i = 0; i < context.tests.size(); ++i) {
    const BenchTest& test = context.tests[i];
    try {
      TestResult result = run_test(*engine, test, run.model, context.options.seed + i, context.options);
      const Summary s = result.summary();
      if (test.is_generation() && roofline.tokens_per_second(0) > 0)
        result.roofline_percent = roofline.percent(s.mean, mean_attended_positions(test));
      progress("  {}: {} t/s{}", test.name(), mean_stddev_text(s.mean, s.stddev),
               result.roofline_percent ? fmt::format(", {:.1f}% of the roofline", *result.roofline_percent) : "");
      run.tests.push_back(std::move(result));
    } catch (const std::exception& e) {
      run.status = RunStatus::failed;
      run.reason = fmt::format("{}: {}", test.name(), e.what());
      progress("  {}: failed: {}", test.name(), e.what());
      return;
    }
  }
}

}  // namespace

PolicyRun bench_model_policy(const ModelInfo& model, const MappingChoice& choice, const BenchContext& context) {
  PolicyRun run;
  run.model = model;
  run.policy = choice.name();
  const std::uint64_t kv_bytes = model.kv_bytes_per_position * context.engine.context_size;
  mapping::PolicyId policy{};
  try {
    if (choice.policy) {
      policy = *choice.policy;
      const auto feasible = mapping::assess(policy, context.capabilities, model.size_bytes, kv_bytes);
      if (!feasible.possible) throw Error(feasible.reason);
    } else {
      policy = mapping::select_policy(context.capabilities, model.size_bytes, kv_bytes, {}).policy;
      run.auto_chosen = true;
    }
  } catch (const std::exception& e) {
    run.status = RunStatus::refused;
    run.reason = e.what();
    progress("{} / {}: refused: {}", model.name, run.policy, run.reason);
    return run;
  }
  run.policy = mapping::name_of(policy);
  const bool in_vram = mapping::residence_of(policy) == mapping::Residence::device;
  run.link = in_vram ? "VRAM" : "pinned host";
  const auto& measured = in_vram ? context.machine.device_read : context.machine.host_read;
  run.link_gb_s = measured ? measured->gb_s : 0.0;
  try {
    mapping::visit_policy(policy, [&](auto tag) { run_policy<typename decltype(tag)::type>(run, context); });
  } catch (const std::exception& e) {  // anything past the load: a failure, reported, not fatal
    run.status = RunStatus::failed;
    run.reason = e.what();
    progress("{} / {}: failed: {}", model.name, run.policy_label(), run.reason);
  }
  return run;
}

}  // namespace pagoda::bench
