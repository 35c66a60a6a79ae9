// --summary: saved JSON reports merged into the README's table shape, a row
// per (model, policy) and a column per test.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pagoda/core/error.hpp"
#include "pagoda_bench/report.hpp"
#include "pagoda_bench/summary.hpp"
#include "report_fixture.hpp"

using namespace pagoda::bench;
using nlohmann::json;

TEST_CASE("two reports become one table: tests as columns in the order first seen, refusals as notes") {
  auto first = test::sample_report();
  auto second = test::sample_report();
  second.runs.resize(1);
  second.runs[0].policy = "hugepage-import";
  second.runs[0].link = "pinned host";
  second.runs[0].tests[0].test = {.n_gen = 128, .n_depth = 4096};  // a column the first report lacks
  second.runs[0].tests[0].seconds = {1.0, 1.0};
  second.runs[0].tests[1].roofline_percent = std::nullopt;
  second.machine.host_read.reset();
  second.settings.warmup = false;
  const std::string expected =
      "## pagoda-bench summary\n"
      "\n"
      "- device: NVIDIA H100 80GB HBM3, compute capability 9.0; driver 13.0, runtime 13.0\n"
      "- run 1: streaming read 2991.0 GB/s (VRAM), 50.2 GB/s (pinned host); 2 repetitions after 1 warm-up\n"
      "- run 2: streaming read 2991.0 GB/s (VRAM), not measured (pinned host); 2 repetitions, no warm-up\n"
      "- t/s: mean ± sample standard deviation over the repetitions; load: open + engine construction; tg % "
      "roofline: the first depth-0 decode test against the link the weights live behind\n"
      "\n"
      "| model | size | policy | pp512 | tg128 | tg128 @ d4096 | load s | tg % roofline | note |\n"
      "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |\n"
      "| synthetic llama-3-8b Q4_0 | 4.33 GiB | device-copy | 10240.00 ± 0.00 | 288.00 ± 45.25 | | 1.50 | 42.0% | |\n"
      "| synthetic llama-3-8b Q4_0 | 4.33 GiB | hmm-direct | | | | | | refused: HmmDirect needs "
      "pageableMemoryAccess = 1 \\| the device reports 0, \"no HMM\" |\n"
      "| synthetic llama-3-8b Q4_0 | 4.33 GiB | hugepage-import | | 288.00 ± 45.25 | 128.00 ± 0.00 | 1.50 | | |\n";
  CHECK(format_summary({to_json(first), to_json(second)}) == expected);
}

TEST_CASE("a document that is not a report is named in the error") {
  CHECK_THROWS_WITH_AS((void)format_summary({to_json(test::sample_report()), json{{"runs", 3}}}, {"a.json", "b.json"}),
                       doctest::Contains("b.json is not a pagoda-bench JSON report"), pagoda::Error);
  CHECK_THROWS_WITH_AS((void)format_summary({json::object()}), doctest::Contains("report 1 is not a pagoda-bench"),
                       pagoda::Error);
  CHECK(format_summary({}).empty());
}
