// Command-line building blocks shared by pagoda-bench and pagoda-kernel-bench:
// a usage error that names its flag, and llama-bench's value lists ("512",
// "128,256", ranges "64-512*2" and "0-4096+1024"). Host-only, so the CPU
// tests check every message a user can see.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pagoda::bench {

// A bad command line. The message starts with the flag it is about; the apps
// print it on one line and exit with status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// How a flag is spelled: "-p" and "--n-prompt" (either may be empty).
struct FlagName {
  std::string_view short_name;
  std::string_view long_name;

  // "-p/--n-prompt", the spelling every message uses.
  [[nodiscard]] std::string text() const;
  [[nodiscard]] bool matches(std::string_view arg) const {
    return (!short_name.empty() && arg == short_name) || (!long_name.empty() && arg == long_name);
  }
};

// Items of a comma list, empty items refused ("-m/--model: empty item in 'a,,b'").
[[nodiscard]] std::vector<std::string> split_list(const FlagName& flag, std::string_view text);

// One whole number in [min, max].
[[nodiscard]] std::uint64_t parse_count(const FlagName& flag, std::string_view text, std::uint64_t min,
                                        std::uint64_t max);

// A comma list of whole numbers or ranges, each value in [min, max]:
//   first-last        every value from first to last
//   first-last+step   first, first+step, ... up to last
//   first-last*mult   first, first*mult, ... up to last (first >= 1, mult >= 2)
[[nodiscard]] std::vector<std::uint32_t> parse_count_list(const FlagName& flag, std::string_view text,
                                                          std::uint32_t min, std::uint32_t max);

// The output formats, by name and by a saved file's extension.
enum class OutputFormat : std::uint8_t { markdown, csv, json };

[[nodiscard]] std::string_view name_of(OutputFormat format);
// "md", "csv" or "json".
[[nodiscard]] OutputFormat parse_output_format(const FlagName& flag, std::string_view text);
// From the extension: .md, .csv or .json.
[[nodiscard]] OutputFormat output_format_of(const FlagName& flag, const std::filesystem::path& path);

// A report also written to a file (`--save PATH`, repeatable).
struct SaveTarget {
  OutputFormat format;
  std::filesystem::path path;
};

// Walks argv, handing out each flag's value; "--flag=value" works as well
// as "--flag value".
class ArgumentCursor {
public:
  explicit ArgumentCursor(std::vector<std::string> args) : args_(std::move(args)) {}

  [[nodiscard]] bool done() const { return next_ >= args_.size(); }
  // The next flag (the part before '=' of "--flag=value").
  [[nodiscard]] std::string_view next_flag();
  // The current flag's value: after '=' or the following argument.
  [[nodiscard]] std::string value(const FlagName& flag);
  // Refuses "--no-warmup=1": a switch takes no value.
  void no_value(const FlagName& flag) const;

private:
  std::vector<std::string> args_;
  std::size_t next_ = 0;
  std::string_view flag_;
  std::optional<std::string> inline_value_;
};

}  // namespace pagoda::bench
