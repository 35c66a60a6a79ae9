// Value lists as llama-bench takes them, and the messages a user sees when
// one is wrong: each names the flag, the value and what was expected.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pagoda_bench/arguments.hpp"

using namespace pagoda::bench;

namespace {

constexpr FlagName prompt{"-p", "--n-prompt"};

std::string list_error(std::string_view text, std::uint32_t min = 0, std::uint32_t max = 1u << 20) {
  try {
    (void)parse_count_list(prompt, text, min, max);
  } catch (const UsageError& e) {
    return e.what();
  }
  return {};
}

using Values = std::vector<std::uint32_t>;

}  // namespace

TEST_CASE("a flag is named by both spellings, or the one it has") {
  CHECK(prompt.text() == "-p/--n-prompt");
  CHECK(FlagName{"", "--mapping"}.text() == "--mapping");
  CHECK(FlagName{"-pg", ""}.text() == "-pg");
  CHECK(prompt.matches("-p"));
  CHECK(prompt.matches("--n-prompt"));
  CHECK_FALSE(prompt.matches("--n-prompt=5"));
  CHECK_FALSE(FlagName{"", "--mapping"}.matches(""));
}

TEST_CASE("count lists take single values, comma lists and llama-bench ranges") {
  CHECK(parse_count_list(prompt, "512", 0, 4096) == Values{512});
  CHECK(parse_count_list(prompt, "0,128,512", 0, 4096) == Values{0, 128, 512});
  CHECK(parse_count_list(prompt, "1-4", 0, 4096) == Values{1, 2, 3, 4});
  CHECK(parse_count_list(prompt, "0-4096+1024", 0, 4096) == Values{0, 1024, 2048, 3072, 4096});
  CHECK(parse_count_list(prompt, "64-512*2", 0, 4096) == Values{64, 128, 256, 512});
  CHECK(parse_count_list(prompt, "64-500*2", 0, 4096) == Values{64, 128, 256});  // stops before passing the end
  CHECK(parse_count_list(prompt, "7-7", 0, 4096) == Values{7});
  CHECK(parse_count_list(prompt, "16,64-128*2", 0, 4096) == Values{16, 64, 128});
  CHECK(parse_count_list(prompt, "1-4096*4294967295", 0, 4096) == Values{1});  // no overflow
}

TEST_CASE("bad count lists say which flag, which value and what was expected") {
  CHECK(list_error("abc") == "-p/--n-prompt: 'abc' is not a whole number");
  CHECK(list_error("12x") == "-p/--n-prompt: '12x' is not a whole number");
  CHECK(list_error("-5") == "-p/--n-prompt: '-5' is not a whole number");
  CHECK(list_error("") == "-p/--n-prompt: empty item in ''");
  CHECK(list_error("1,,2") == "-p/--n-prompt: empty item in '1,,2'");
  CHECK(list_error("512,") == "-p/--n-prompt: empty item in '512,'");
  CHECK(list_error("0", 1, 64) == "-p/--n-prompt must be between 1 and 64 (got 0)");
  CHECK(list_error("99999999999999999999999") == "-p/--n-prompt: '99999999999999999999999' is too large");
  CHECK(list_error("512-64") == "-p/--n-prompt: range '512-64' ends before it starts");
  CHECK(list_error("0-8+0") == "-p/--n-prompt: range '0-8+0' has a step of 0");
  CHECK(list_error("0-8*2") == "-p/--n-prompt: range '0-8*2' must start at 1 or more and multiply by 2 or more");
  CHECK(list_error("1-8*1") == "-p/--n-prompt: range '1-8*1' must start at 1 or more and multiply by 2 or more");
  CHECK(list_error("1-9000", 0, 1u << 20) == "-p/--n-prompt: more than 1000 values");
  CHECK(list_error("1-100", 0, 64) == "-p/--n-prompt must be between 0 and 64 (got 100)");
}

TEST_CASE("single counts are checked against their range") {
  const FlagName reps{"-r", "--repetitions"};
  CHECK(parse_count(reps, "5", 1, 1000) == 5);
  CHECK_THROWS_WITH_AS((void)parse_count(reps, "0", 1, 1000), "-r/--repetitions must be between 1 and 1000 (got 0)",
                       UsageError);
  CHECK_THROWS_WITH_AS((void)parse_count(reps, "five", 1, 1000), "-r/--repetitions: 'five' is not a whole number",
                       UsageError);
}

TEST_CASE("output formats by name and by a saved file's extension") {
  const FlagName output{"-o", "--output"};
  CHECK(parse_output_format(output, "md") == OutputFormat::markdown);
  CHECK(parse_output_format(output, "csv") == OutputFormat::csv);
  CHECK(parse_output_format(output, "json") == OutputFormat::json);
  CHECK_THROWS_WITH_AS((void)parse_output_format(output, "sql"),
                       "-o/--output: unknown output format 'sql'; expected md, csv or json", UsageError);
  const FlagName save{"", "--save"};
  CHECK(output_format_of(save, "/tmp/x/report.md") == OutputFormat::markdown);
  CHECK(output_format_of(save, "bench.csv") == OutputFormat::csv);
  CHECK(output_format_of(save, "out/bench.json") == OutputFormat::json);
  CHECK_THROWS_WITH_AS((void)output_format_of(save, "bench.txt"),
                       "--save: cannot tell the format of 'bench.txt' from its extension; use .md, .csv or .json",
                       UsageError);
  for (OutputFormat f : {OutputFormat::markdown, OutputFormat::csv, OutputFormat::json})
    CHECK(parse_output_format(output, name_of(f)) == f);
}

TEST_CASE("the cursor hands out values after the flag or after '='") {
  ArgumentCursor cursor({"--n-prompt=128", "-n", "64", "--no-warmup=1", "-r"});
  CHECK(cursor.next_flag() == "--n-prompt");
  CHECK(cursor.value(prompt) == "128");
  CHECK(cursor.next_flag() == "-n");
  CHECK(cursor.value(FlagName{"-n", "--n-gen"}) == "64");
  CHECK(cursor.next_flag() == "--no-warmup");
  CHECK_THROWS_WITH_AS(cursor.no_value(FlagName{"", "--no-warmup"}), "--no-warmup: takes no value", UsageError);
  CHECK(cursor.next_flag() == "-r");
  CHECK_THROWS_WITH_AS((void)cursor.value(FlagName{"-r", "--repetitions"}), "-r/--repetitions: needs a value",
                       UsageError);
  CHECK(cursor.done());
}
