// pagoda-bench: token throughput of pagoda's CUDA engine, in the spirit of
// llama-bench (same flags, same test names, same t/s +- stddev), for each
// model under each requested mapping policy — plus what each load cost and
// how close decode gets to the roofline of the link its weights live behind,
// measured here at start-up. The report goes to stdout (-o) and to files
// (--save); progress goes to stderr.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine_bench.hpp"
#include "machine.hpp"
#include "step_timeline.hpp"
#include "pagoda/core/error.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/runtime/engine_options.hpp"
#include "pagoda_bench/model_info.hpp"
#include "pagoda_bench/options.hpp"
#include "pagoda_bench/report.hpp"
#include "pagoda_bench/summary.hpp"
#include "pagoda_bench/test_plan.hpp"

namespace bench = pagoda::bench;

namespace {

// A model pagoda cannot read gets one failed row per mapping choice, named by its path.
std::vector<bench::PolicyRun> unreadable_model(const std::string& path, const std::string& reason,
                                               const bench::BenchOptions& options) {
  std::vector<bench::PolicyRun> runs;
  for (const auto& choice : options.mappings) {
    bench::PolicyRun run;
    run.model.name = path;
    run.model.path = path;
    run.policy = choice.name();
    run.status = bench::RunStatus::failed;
    run.reason = reason;
    runs.push_back(std::move(run));
  }
  return runs;
}

void save(const bench::SaveTarget& target, const bench::BenchReport& report) {
  std::ofstream out(target.path, std::ios::binary | std::ios::trunc);
  out << bench::format_report(target.format, report);
  out.close();
  if (!out) throw pagoda::Error("--save: cannot write " + target.path.string());
}

// --summary: the saved JSON reports merged into one table; no GPU involved.
int summarize(const std::vector<std::string>& paths) {
  std::vector<nlohmann::json> reports;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw pagoda::Error("--summary: " + path + ": cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    try {
      reports.push_back(nlohmann::json::parse(text.str()));
    } catch (const nlohmann::json::exception& e) {
      throw pagoda::Error("--summary: " + path + ": not JSON: " + e.what());
    }
  }
  std::cout << bench::format_summary(reports, paths) << std::flush;
  return 0;
}

int run(const bench::BenchOptions& options) {
  const auto tests = bench::plan_tests(options);
  const auto capabilities = pagoda::mapping::probe();
  if (!capabilities.device.present)
    throw pagoda::Error("no usable CUDA device: " + capabilities.device.absent_reason);

  bench::BenchReport report;
  report.machine = bench::describe_machine(capabilities.device, std::uint64_t{options.probe_mib} << 20);
  report.settings = {.repetitions = options.repetitions,
                     .warmup = options.warmup,
                     .seed = options.seed,
                     .batch = options.batch,
                     .cuda_graph = options.cuda_graph,
                     .programmatic_launch = options.programmatic_launch,
                     .layout = std::string(pagoda::quant::name_of(options.layout)),
                     .decode = std::string(pagoda::runtime::name_of(options.decode)) +
                               (options.prefetch ? ", prefetch" : "") +
                               (options.direct_attention_rows
                                    ? ", direct attention up to " + std::to_string(*options.direct_attention_rows) +
                                          " rows"
                                    : std::string()),
                     .context = bench::context_for(tests),
                     .pagoda_version = PAGODA_VERSION};
  pagoda::runtime::EngineOptions engine{.context_size = report.settings.context,
                                        .max_batch = options.batch,
                                        .use_cuda_graph = options.cuda_graph,
                                        .layout = options.layout,
                                        .wgmma_prefill = options.wgmma,
                                        .programmatic_launch = options.programmatic_launch,
                                        .direct_attention_rows = options.direct_attention_rows,
                                        .decode = options.decode,
                                        .persistent_prefetch = options.prefetch};
  // Greedy: each decode step ends in an argmax, the least a step can do
  // (llama-bench samples nothing; pagoda's engine always picks a token).
  engine.sampling.temperature = 0.0f;
  const bench::BenchContext context{
      .capabilities = capabilities, .machine = report.machine, .tests = tests, .options = options, .engine = engine};

  // Before any engine captures its graphs: the kernels' launches carry the log.
  if (!options.step_timeline.empty()) {
    pagoda::kernels::step_stamps::enable(bench::step_timeline_capacity);
    bench::start_step_timeline(options.step_timeline);
  }
  for (const std::string& path : options.models) {
    bench::ModelInfo model;
    try {
      const auto file = pagoda::gguf::MappedFile::open(path);
      model = bench::describe_model(file->gguf(), path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pagoda-bench: %s: %s\n", path.c_str(), e.what());
      for (auto& run : unreadable_model(path, e.what(), options)) report.runs.push_back(std::move(run));
      continue;
    }
    for (const auto& choice : options.mappings) report.runs.push_back(bench::bench_model_policy(model, choice, context));
  }

  std::cout << bench::format_report(options.output, report) << std::flush;
  for (const auto& target : options.saves) save(target, report);
  bool failed = false;
  for (const auto& r : report.runs) failed = failed || r.status == bench::RunStatus::failed;
  return failed ? 1 : 0;  // a refusal is a result; a failure is not
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto options = bench::parse_bench_arguments(std::vector<std::string>(argv + 1, argv + argc));
    if (options.help) {
      std::cout << bench::bench_usage();
      return 0;
    }
    if (!options.summaries.empty()) return summarize(options.summaries);
    bench::check_models_exist(options.models);
    return run(options);
  } catch (const bench::UsageError& e) {
    std::fprintf(stderr, "pagoda-bench: %s (see --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagoda-bench: %s\n", e.what());
    return 1;
  }
}
