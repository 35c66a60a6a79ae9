// The three output formats, exactly: what README tables are pasted from
// (md), what spreadsheets read (csv) and what scripts compare (json).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pagoda_bench/report.hpp"
#include "pagoda_bench/units.hpp"
#include "report_fixture.hpp"

using namespace pagoda::bench;
using nlohmann::json;

namespace {

std::vector<std::string> keys(const json& object) {
  std::vector<std::string> out;
  for (const auto& [key, value] : object.items()) out.push_back(key);
  std::ranges::sort(out);
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> names) {
  std::ranges::sort(names);
  return names;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    out.push_back(text.substr(start, end - start));
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("markdown: a header with both bandwidths, the t/s table, then the load table") {
  const std::string expected =
      "## pagoda-bench\n"
      "\n"
      "- device: NVIDIA H100 80GB HBM3, sm_90, 80.00 GiB; driver 13.0, runtime 13.0\n"
      "- streaming read of device memory: 2991.0 GB/s (1.00 GiB, median of 21 passes)\n"
      "- streaming read of pinned host memory (zero-copy): 50.2 GB/s (1.00 GiB, median of 9 passes)\n"
      "- 2 repetitions after 1 warm-up; random token ids, seed 1; prefill batch 512; CUDA graph on; "
      "programmatic launch on; weight layout auto; decode step auto; context 640; pagoda 0.1.0\n"
      "\n"
      "| model | size | params | policy | test | t/s | % roofline |\n"
      "| --- | ---: | ---: | --- | --- | ---: | ---: |\n"
      "| synthetic llama-3-8b Q4_0 | 4.33 GiB | 8.03 B | device-copy | pp512 | 10240.00 ± 0.00 |  |\n"
      "| synthetic llama-3-8b Q4_0 | 4.33 GiB | 8.03 B | device-copy | tg128 | 288.00 ± 45.25 | 42.0% |\n"
      "| synthetic llama-3-8b Q4_0 | 4.33 GiB | 8.03 B | hmm-direct | - | refused: HmmDirect needs "
      "pageableMemoryAccess = 1 \\| the device reports 0, \"no HMM\" |  |\n"
      "\n"
      "| model | policy | load s | VRAM Δ | working VRAM | pinned host | RSS | page cache | weights/token | read from "
      "| tg % roofline |\n"
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |\n"
      "| synthetic llama-3-8b Q4_0 | device-copy | 1.50 | +4.50 GiB | 1.00 GiB | 0 B | 512.00 MiB | 0 B | 4.06 GiB | "
      "VRAM 2991.0 GB/s | 42.0% |\n";
  CHECK(format_markdown(test::sample_report()) == expected);
}

TEST_CASE("markdown: auto-chosen policies say so; a missing host probe says why; a failure keeps its tests") {
  auto report = test::sample_report();
  report.machine.host_read.reset();
  report.machine.host_read_problem = "cudaHostAlloc failed";
  report.settings.warmup = false;
  report.settings.repetitions = 1;
  report.runs[0].auto_chosen = true;
  report.runs[0].status = RunStatus::failed;
  report.runs[0].reason = "tg128: cudaErrorIllegalAddress";
  report.runs[0].tests.pop_back();
  const auto text = lines(format_markdown(report));
  CHECK(text[4] == "- streaming read of pinned host memory (zero-copy): not measured (cudaHostAlloc failed)");
  CHECK(text[5].starts_with("- 1 repetition without warm-up;"));
  CHECK(text[9] == "| synthetic llama-3-8b Q4_0 | 4.33 GiB | 8.03 B | device-copy (auto) | pp512 | 10240.00 ± 0.00 |  |");
  CHECK(text[10] ==
        "| synthetic llama-3-8b Q4_0 | 4.33 GiB | 8.03 B | device-copy (auto) | - | failed: tg128: "
        "cudaErrorIllegalAddress |  |");
  CHECK(text.back().find("| device-copy (auto) | 1.50 |") != std::string::npos);
  CHECK(text.back().ends_with("| VRAM 2991.0 GB/s |  |"));  // no decode test, no tg roofline
}

TEST_CASE("csv: a header, then one row per test and one per refused or failed run, quoted per RFC 4180") {
  const std::string header =
      "model,model_path,size_bytes,params,policy,auto_chosen,status,reason,test,n_prompt,n_gen,n_depth,repetitions,"
      "avg_ts,stddev_ts,samples_ts,roofline_percent,load_seconds,vram_delta_bytes,working_vram_bytes,"
      "host_registered_bytes,page_cache_bytes,rss_bytes,weight_bytes_per_token,read_from,read_gb_s,device_read_gb_s,"
      "host_read_gb_s";
  const std::string model = "synthetic llama-3-8b Q4_0,/tmp/m.gguf,4649385984,8030261248,";
  const std::string device_load = "1.500,4831838208,1073741824,0,0,536870912,4355000000,VRAM,2991.000,2991.000,50.200";
  const auto text = lines(format_csv(test::sample_report()));
  REQUIRE(text.size() == 4);
  CHECK(text[0] == header);
  CHECK(text[1] == model + "device-copy,0,ok,,pp512,512,0,0,2,10240.000,0.000,10240.000;10240.000,," + device_load);
  CHECK(text[2] == model + "device-copy,0,ok,,tg128,0,128,0,2,288.000,45.255,320.000;256.000,42.000," + device_load);
  CHECK(text[3] == model +
                       "hmm-direct,0,refused,\"HmmDirect needs pageableMemoryAccess = 1 | the device reports 0, "
                       "\"\"no HMM\"\"\",,,,,,,,,,,,,,,,4355000000,,,2991.000,50.200");
  for (const auto& line : text) {
    // Every row has as many fields as the header (commas inside quotes aside).
    std::size_t fields = 1;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) ++fields;
    }
    CHECK(fields == 28);
  }
}

TEST_CASE("json: machine, settings and one object per run with every sample") {
  const json doc = json::parse(format_json(test::sample_report()));
  CHECK(keys(doc) == sorted({"machine", "settings", "runs"}));
  CHECK(keys(doc["machine"]) == sorted({"device", "compute_capability", "vram_total_bytes", "driver", "runtime",
                                        "device_read", "host_read", "host_read_problem"}));
  CHECK(doc["machine"]["compute_capability"] == "9.0");
  CHECK(doc["machine"]["driver"] == "13.0");
  CHECK(keys(doc["machine"]["device_read"]) == sorted({"gb_s", "bytes", "passes"}));
  CHECK(doc["machine"]["device_read"]["gb_s"] == 2991.0);
  CHECK(doc["machine"]["host_read"]["bytes"] == 1ull << 30);
  CHECK(keys(doc["settings"]) ==
        sorted({"repetitions", "warmup", "seed", "batch", "cuda_graph", "programmatic_launch", "layout", "decode",
                "context", "pagoda_version"}));

  REQUIRE(doc["runs"].size() == 2);
  const json& ok = doc["runs"][0];
  CHECK(keys(ok) == sorted({"model", "policy", "auto_chosen", "status", "reason", "read_from", "read_gb_s", "load",
                            "tg_roofline_percent", "tests"}));
  CHECK(keys(ok["model"]) ==
        sorted({"name", "path", "size_bytes", "params", "weight_bytes_per_token", "kv_bytes_per_position"}));
  CHECK(keys(ok["load"]) == sorted({"seconds", "placement_seconds", "vram_delta_bytes", "engine_vram_delta_bytes",
                                    "working_vram_bytes", "host_registered_bytes", "page_cache_bytes",
                                    "hugepage_bytes", "rss_bytes", "rss_delta_bytes", "rss_file_bytes", "placement",
                                    "fallbacks"}));
  CHECK(ok["status"] == "ok");
  CHECK(ok["load"]["rss_delta_bytes"] == -1048576);
  CHECK(ok["load"]["fallbacks"][0] == "registered mmap: large folios; staged instead");
  CHECK(ok["tg_roofline_percent"] == 42.0);
  REQUIRE(ok["tests"].size() == 2);
  const json& tg = ok["tests"][1];
  CHECK(keys(tg) == sorted({"test", "n_prompt", "n_gen", "n_depth", "avg_ts", "stddev_ts", "samples_ts",
                            "samples_seconds", "roofline_percent"}));
  CHECK(tg["test"] == "tg128");
  CHECK(tg["avg_ts"] == 288.0);
  CHECK(tg["stddev_ts"].get<double>() == doctest::Approx(45.254834));
  CHECK(tg["samples_ts"] == json::array({320.0, 256.0}));
  CHECK(tg["samples_seconds"] == json::array({0.4, 0.5}));
  CHECK(ok["tests"][0]["roofline_percent"].is_null());

  const json& refused = doc["runs"][1];
  CHECK(refused["status"] == "refused");
  CHECK(refused["reason"] == test::refusal);
  CHECK(refused["load"].is_null());
  CHECK(refused["tests"].empty());
  CHECK(refused["tg_roofline_percent"].is_null());
}

TEST_CASE("json: a host probe that failed is null, with its reason") {
  auto report = test::sample_report();
  report.machine.host_read.reset();
  report.machine.host_read_problem = "out of pinned memory";
  const json doc = to_json(report);
  CHECK(doc["machine"]["host_read"].is_null());
  CHECK(doc["machine"]["host_read_problem"] == "out of pinned memory");
}

TEST_CASE("format_report picks the format; json ends with a newline") {
  const auto report = test::sample_report();
  CHECK(format_report(OutputFormat::markdown, report) == format_markdown(report));
  CHECK(format_report(OutputFormat::csv, report) == format_csv(report));
  CHECK(format_report(OutputFormat::json, report) == format_json(report));
  CHECK(format_json(report).ends_with("}\n"));
}

TEST_CASE("sizes and counts read as llama-bench prints them") {
  CHECK(size_text(0) == "0 B");
  CHECK(size_text(1023) == "1023 B");
  CHECK(size_text(1536) == "1.50 KiB");
  CHECK(size_text(92ull << 20) == "92.00 MiB");
  CHECK(size_text(4649385984) == "4.33 GiB");
  CHECK(signed_size_text(0) == "0 B");
  CHECK(signed_size_text(1ll << 30) == "+1.00 GiB");
  CHECK(signed_size_text(-(4ll << 20)) == "-4.00 MiB");
  CHECK(signed_size_text(INT64_MIN) == "-8589934592.00 GiB");
  CHECK(count_text(8030261248) == "8.03 B");
  CHECK(count_text(134515008) == "134.52 M");
  CHECK(count_text(900000) == "900.00 K");
  CHECK(count_text(12) == "12");
  CHECK(mean_stddev_text(10234.123, 45.1) == "10234.12 ± 45.10");
  CHECK(cuda_version_text(12080) == "12.8");
}
