// pagoda-bench's command line as a specification: llama-bench's defaults,
// every flag, and one clear message naming the flag for each mistake.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pagoda_bench/options.hpp"

using namespace pagoda::bench;
using pagoda::mapping::PolicyId;

namespace {

BenchOptions parse(std::vector<std::string> args) { return parse_bench_arguments(std::move(args)); }

std::string error_of(std::vector<std::string> args) {
  try {
    (void)parse_bench_arguments(std::move(args));
  } catch (const UsageError& e) {
    return e.what();
  }
  return {};
}

using Values = std::vector<std::uint32_t>;

}  // namespace

TEST_CASE("defaults are llama-bench's: pp512 and tg128, 5 repetitions, markdown; mapping auto") {
  const auto o = parse({"-m", "model.gguf"});
  CHECK_FALSE(o.help);
  CHECK(o.models == std::vector<std::string>{"model.gguf"});
  CHECK(o.n_prompt == Values{512});
  CHECK(o.n_gen == Values{128});
  CHECK(o.n_depth == Values{0});
  CHECK(o.prompt_gen.empty());
  CHECK(o.repetitions == 5);
  REQUIRE(o.mappings.size() == 1);
  CHECK_FALSE(o.mappings[0].policy.has_value());
  CHECK(o.mappings[0].name() == "auto");
  CHECK(o.output == OutputFormat::markdown);
  CHECK(o.saves.empty());
  CHECK(o.batch == 512);
  CHECK(o.seed == 1);
  CHECK(o.warmup);
  CHECK(o.cuda_graph);
  CHECK(o.programmatic_launch);
  CHECK(o.probe_mib == 1024);
  CHECK_FALSE(o.verbose);
}

TEST_CASE("every flag, short and long") {
  const auto o = parse({"-m", "a.gguf,b.gguf", "--model", "c.gguf", "-p", "0,128", "--n-gen=16-64*2", "-pg", "512,128",
                        "-pg", "64,8", "-d", "0,4096", "-r", "3", "--mapping", "device,host-registered,hmm,hugepage,auto",
                        "-o", "json", "--save", "/tmp/r.md", "--save=/tmp/r.json", "-b", "256", "--seed", "42",
                        "--no-warmup", "--no-cuda-graph", "--probe-mib", "256", "-v"});
  CHECK(o.models == std::vector<std::string>{"a.gguf", "b.gguf", "c.gguf"});
  CHECK(o.n_prompt == Values{0, 128});
  CHECK(o.n_gen == Values{16, 32, 64});
  CHECK(o.prompt_gen == std::vector<PromptGen>{{512, 128}, {64, 8}});
  CHECK(o.n_depth == Values{0, 4096});
  CHECK(o.repetitions == 3);
  REQUIRE(o.mappings.size() == 5);
  CHECK(o.mappings[0].policy == PolicyId::device_copy);
  CHECK(o.mappings[1].policy == PolicyId::host_registered);
  CHECK(o.mappings[2].policy == PolicyId::hmm_direct);
  CHECK(o.mappings[3].policy == PolicyId::hugepage_import);
  CHECK_FALSE(o.mappings[4].policy.has_value());
  CHECK(o.mappings[3].name() == "hugepage-import");
  CHECK(o.output == OutputFormat::json);
  REQUIRE(o.saves.size() == 2);
  CHECK(o.saves[0].format == OutputFormat::markdown);
  CHECK(o.saves[0].path == "/tmp/r.md");
  CHECK(o.saves[1].format == OutputFormat::json);
  CHECK(o.batch == 256);
  CHECK(o.seed == 42);
  CHECK_FALSE(o.warmup);
  CHECK_FALSE(o.cuda_graph);
  CHECK(o.probe_mib == 256);
  CHECK(o.verbose);
  CHECK(o.hugepage_size == "auto");
  CHECK_FALSE(o.no_fallback);
}

TEST_CASE("--hugepage-size and --no-fallback reach hugepage-import's own options, as on every app") {
  const BenchOptions o = parse({"-m", "a.gguf", "--mapping", "hugepage", "--hugepage-size", "2m", "--no-fallback"});
  CHECK(o.hugepage_size == "2m");
  CHECK(o.no_fallback);
  CHECK(error_of({"-m", "x.gguf", "--hugepage-size", "3m"}).starts_with("--hugepage-size: "));
  CHECK(error_of({"-m", "x.gguf", "--no-fallback=1"}) == "--no-fallback: takes no value");
}

TEST_CASE("--no-pdl turns programmatic dependent launch off for the run") {
  CHECK_FALSE(parse({"-m", "a.gguf", "--no-pdl"}).programmatic_launch);
  CHECK(error_of({"-m", "x.gguf", "--no-pdl=yes"}) == "--no-pdl: takes no value");
}

TEST_CASE("--decode picks the one-token step: auto by default, graph or persistent; anything else is a mistake") {
  CHECK(parse({"-m", "a.gguf"}).decode == pagoda::runtime::DecodePath::automatic);
  CHECK(parse({"-m", "a.gguf", "--decode", "graph"}).decode == pagoda::runtime::DecodePath::graph);
  CHECK(parse({"-m", "a.gguf", "--decode", "persistent"}).decode == pagoda::runtime::DecodePath::persistent);
  CHECK(error_of({"-m", "a.gguf", "--decode", "megakernel"}) ==
        "--decode: 'megakernel' is not one of auto, graph, persistent");
  CHECK_FALSE(parse({"-m", "a.gguf"}).prefetch);
  CHECK(parse({"-m", "a.gguf", "--decode", "persistent", "--prefetch"}).prefetch);
}

TEST_CASE("--step-timeline names the CSV a profiling build writes one decode step's stamps to; off by default") {
  CHECK(parse({"-m", "a.gguf"}).step_timeline.empty());
  CHECK(parse({"-m", "a.gguf", "--step-timeline", "/tmp/step.csv"}).step_timeline == "/tmp/step.csv");
  CHECK(error_of({"-m", "a.gguf", "--step-timeline"}) == "--step-timeline: needs a value");
}

TEST_CASE("--help stops parsing, whatever follows") {
  CHECK(parse({"--help"}).help);
  CHECK(parse({"-h", "--bogus"}).help);
  CHECK_FALSE(bench_usage().empty());
  for (const char* flag : {"-m, --model", "-p, --n-prompt", "-n, --n-gen", "-pg", "-d, --n-depth", "-r, --repetitions",
                           "--mapping", "--hugepage-size", "--no-fallback", "-o, --output", "--save", "--no-warmup",
                           "--no-pdl", "--probe-mib", "--decode", "--step-timeline"})
    CHECK_MESSAGE(bench_usage().find(flag) != std::string::npos, flag);
}

TEST_CASE("mistakes are one line naming the flag") {
  CHECK(error_of({}) == "-m/--model: at least one model is required");
  CHECK(error_of({"--bogus"}) == "unrecognised option '--bogus'");
  CHECK(error_of({"-m", "x.gguf", "-x"}) == "unrecognised option '-x'");
  CHECK(error_of({"-m"}) == "-m/--model: needs a value");
  CHECK(error_of({"-m", "x.gguf", "-p", "many"}) == "-p/--n-prompt: 'many' is not a whole number");
  CHECK(error_of({"-m", "x.gguf", "-n", "2000000"}) == "-n/--n-gen must be between 0 and 1048576 (got 2000000)");
  CHECK(error_of({"-m", "x.gguf", "-r", "0"}) == "-r/--repetitions must be between 1 and 1000 (got 0)");
  CHECK(error_of({"-m", "x.gguf", "-b", "0"}) == "-b/--batch-size must be between 1 and 8192 (got 0)");
  CHECK(error_of({"-m", "x.gguf", "--probe-mib", "1"}) == "--probe-mib must be between 64 and 65536 (got 1)");
  CHECK(error_of({"-m", "x.gguf", "-o", "sql"}) == "-o/--output: unknown output format 'sql'; expected md, csv or json");
  CHECK(error_of({"-m", "x.gguf", "--save", "r.txt"}) ==
        "--save: cannot tell the format of 'r.txt' from its extension; use .md, .csv or .json");
  CHECK(error_of({"-m", "x.gguf", "--no-warmup=yes"}) == "--no-warmup: takes no value");
  CHECK(error_of({"-m", "x.gguf", "-pg", "512"}) == "-pg: expected two numbers 'prompt,gen' (got '512')");
  CHECK(error_of({"-m", "x.gguf", "-pg", "512,0"}) == "-pg must be between 1 and 1048576 (got 0)");
  CHECK(error_of({"-m", "x.gguf", "-p", "128", "-p", "512"}) == "-p/--n-prompt: given twice; use one comma list");
  CHECK(error_of({"-m", "x.gguf", "-p", "0", "-n", "0"}) ==
        "nothing to run: every -p/--n-prompt and -n/--n-gen value is 0 and no -pg was given");
  CHECK(error_of({"-m", "x.gguf", "-d", "1048576"}) ==
        "-d/--n-depth: pp512 @ d1048576 fills 1049088 positions, more than 1048576");
}

TEST_CASE("--mapping takes the four policies by either name, or auto, each once") {
  CHECK(error_of({"-m", "x.gguf", "--mapping", "device,device-copy"}) == "--mapping: device-copy is listed twice");
  CHECK(error_of({"-m", "x.gguf", "--mapping", "auto,auto"}) == "--mapping: auto is listed twice");
  const std::string unknown = error_of({"-m", "x.gguf", "--mapping", "gpu"});
  CHECK(unknown.starts_with("--mapping: unknown mapping policy `gpu`"));
  CHECK(unknown.find("hugepage-import") != std::string::npos);
  CHECK(error_of({"-m", "x.gguf", "--mapping", "device,"}) == "--mapping: empty item in 'device,'");
}

TEST_CASE("--summary merges saved reports and needs no model; with -m it is a mistake") {
  const auto o = parse({"--summary", "a.json,b.json", "--summary", "c.json"});
  CHECK(o.summaries == std::vector<std::string>{"a.json", "b.json", "c.json"});
  CHECK(o.models.empty());
  CHECK(error_of({"--summary", "a.json", "-m", "x.gguf"}) == "--summary: merges saved reports and runs nothing; give no -m/--model");
}

TEST_CASE("-pg alone is enough to run") {
  const auto o = parse({"-m", "x.gguf", "-p", "0", "-n", "0", "-pg", "32,8"});
  CHECK(o.prompt_gen == std::vector<PromptGen>{{32, 8}});
}

TEST_CASE("models must exist before the GPU is touched") {
  CHECK_THROWS_WITH_AS(check_models_exist(std::vector<std::string>{"/no/such/model.gguf"}),
                       "-m/--model: /no/such/model.gguf: no such file", UsageError);
  const auto dir = std::filesystem::temp_directory_path();
  CHECK_THROWS_WITH_AS(check_models_exist(std::vector<std::string>{dir.string()}),
                       ("-m/--model: " + dir.string() + ": not a regular file").c_str(), UsageError);
  const auto file = dir / "pagoda_bench_options_test.gguf";
  std::ofstream(file) << "GGUF";
  CHECK_NOTHROW(check_models_exist(std::vector<std::string>{file.string()}));
  std::filesystem::remove(file);
}
