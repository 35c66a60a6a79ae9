// The JSON document: everything the other formats print, plus every sample
// (seconds and t/s per repetition) and the full placement line, for scripts
// that compare runs. Sizes in bytes, rates in 1e9 B/s and tokens/s.
#include <nlohmann/json.hpp>

#include "pagoda_bench/report.hpp"

namespace pagoda::bench {

namespace {

using nlohmann::json;

json link_json(const std::optional<LinkMeasurement>& link) {
  if (!link) return nullptr;
  return {{"gb_s", link->gb_s}, {"bytes", link->bytes}, {"passes", link->passes}};
}

json machine_json(const MachineInfo& m) {
  return {{"device", m.device_name},
          {"compute_capability", std::to_string(m.compute_major) + "." + std::to_string(m.compute_minor)},
          {"vram_total_bytes", m.vram_total_bytes},
          {"driver", cuda_version_text(m.driver_version)},
          {"runtime", cuda_version_text(m.runtime_version)},
          {"device_read", link_json(m.device_read)},
          {"host_read", link_json(m.host_read)},
          {"host_read_problem", m.host_read_problem}};
}

json settings_json(const BenchSettings& s) {
  return {{"repetitions", s.repetitions}, {"warmup", s.warmup},         {"seed", s.seed},
          {"batch", s.batch},             {"cuda_graph", s.cuda_graph},
          {"programmatic_launch", s.programmatic_launch}, {"layout", s.layout}, {"decode", s.decode}, {"context", s.context},
          {"pagoda_version", s.pagoda_version}};
}

json load_json(const LoadInfo& l) {
  return {{"seconds", l.seconds},
          {"placement_seconds", l.placement_seconds},
          {"vram_delta_bytes", l.vram_delta_bytes},
          {"engine_vram_delta_bytes", l.engine_vram_delta_bytes},
          {"working_vram_bytes", l.working_vram_bytes},
          {"host_registered_bytes", l.host_registered_bytes},
          {"page_cache_bytes", l.page_cache_bytes},
          {"hugepage_bytes", l.hugepage_bytes},
          {"rss_bytes", l.rss_bytes},
          {"rss_delta_bytes", l.rss_delta_bytes},
          {"rss_file_bytes", l.rss_file_bytes},
          {"placement", l.placement},
          {"fallbacks", l.fallbacks}};
}

json test_json(const TestResult& t) {
  const Summary s = t.summary();
  return {{"test", t.test.name()},
          {"n_prompt", t.test.n_prompt},
          {"n_gen", t.test.n_gen},
          {"n_depth", t.test.n_depth},
          {"avg_ts", s.mean},
          {"stddev_ts", s.stddev},
          {"samples_ts", t.tokens_per_second()},
          {"samples_seconds", t.seconds},
          {"roofline_percent", t.roofline_percent ? json(*t.roofline_percent) : json(nullptr)}};
}

json run_json(const PolicyRun& run) {
  json tests = json::array();
  for (const TestResult& t : run.tests) tests.push_back(test_json(t));
  const auto tg = run.tg_roofline_percent();
  return {{"model", {{"name", run.model.name},
                     {"path", run.model.path},
                     {"size_bytes", run.model.size_bytes},
                     {"params", run.model.params},
                     {"weight_bytes_per_token", run.model.weight_bytes_per_token},
                     {"kv_bytes_per_position", run.model.kv_bytes_per_position}}},
          {"policy", run.policy},
          {"auto_chosen", run.auto_chosen},
          {"status", name_of(run.status)},
          {"reason", run.reason},
          {"read_from", run.link},
          {"read_gb_s", run.link_gb_s},
          {"load", run.status == RunStatus::refused ? json(nullptr) : load_json(run.load)},
          {"tg_roofline_percent", tg ? json(*tg) : json(nullptr)},
          {"tests", tests}};
}

}  // namespace

nlohmann::json to_json(const BenchReport& report) {
  json runs = json::array();
  for (const PolicyRun& run : report.runs) runs.push_back(run_json(run));
  return {{"machine", machine_json(report.machine)}, {"settings", settings_json(report.settings)}, {"runs", runs}};
}

}  // namespace pagoda::bench
