#include "pagoda_bench/arguments.hpp"

#include <charconv>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace pagoda::bench {

std::string FlagName::text() const {
  if (short_name.empty()) return std::string(long_name);
  if (long_name.empty()) return std::string(short_name);
  return fmt::format("{}/{}", short_name, long_name);
}

std::vector<std::string> split_list(const FlagName& flag, std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (item.empty()) throw UsageError(fmt::format("{}: empty item in '{}'", flag.text(), text));
    items.emplace_back(item);
    if (comma == std::string_view::npos) return items;
    start = comma + 1;
  }
}

namespace {

// A list longer than this is a typo ("1-100000"), not a benchmark.
constexpr std::size_t max_list_values = 1000;

std::uint64_t whole_number(const FlagName& flag, std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error == std::errc::invalid_argument || end != text.data() + text.size())
    throw UsageError(fmt::format("{}: '{}' is not a whole number", flag.text(), text));
  if (error == std::errc::result_out_of_range)
    throw UsageError(fmt::format("{}: '{}' is too large", flag.text(), text));
  return value;
}

void check_range(const FlagName& flag, std::uint64_t value, std::uint64_t min, std::uint64_t max) {
  if (value < min || value > max)
    throw UsageError(fmt::format("{} must be between {} and {} (got {})", flag.text(), min, max, value));
}

// "first-last", "first-last+step" or "first-last*mult", already split at '-'.
void expand_range(const FlagName& flag, std::string_view item, std::size_t dash, std::uint32_t min,
                  std::uint32_t max, std::vector<std::uint32_t>& out) {
  const std::uint64_t first = whole_number(flag, item.substr(0, dash));
  std::string_view rest = item.substr(dash + 1);
  const std::size_t op_at = rest.find_first_of("+*");
  const std::uint64_t last = whole_number(flag, rest.substr(0, op_at));
  char op = '+';
  std::uint64_t step = 1;
  if (op_at != std::string_view::npos) {
    op = rest[op_at];
    step = whole_number(flag, rest.substr(op_at + 1));
  }
  check_range(flag, first, min, max);
  check_range(flag, last, min, max);
  if (last < first) throw UsageError(fmt::format("{}: range '{}' ends before it starts", flag.text(), item));
  if (op == '+' && step == 0) throw UsageError(fmt::format("{}: range '{}' has a step of 0", flag.text(), item));
  if (op == '*' && (step < 2 || first == 0))
    throw UsageError(fmt::format("{}: range '{}' must start at 1 or more and multiply by 2 or more", flag.text(),
                                 item));
  for (std::uint64_t v = first;;) {
    if (out.size() >= max_list_values)
      throw UsageError(fmt::format("{}: more than {} values", flag.text(), max_list_values));
    out.push_back(static_cast<std::uint32_t>(v));
    // Overflow-safe steps: stop before passing `last`.
    if (op == '+' ? last - v < step : v > last / step) break;
    v = op == '+' ? v + step : v * step;
  }
}

}  // namespace

std::uint64_t parse_count(const FlagName& flag, std::string_view text, std::uint64_t min, std::uint64_t max) {
  const std::uint64_t value = whole_number(flag, text);
  check_range(flag, value, min, max);
  return value;
}

std::vector<std::uint32_t> parse_count_list(const FlagName& flag, std::string_view text, std::uint32_t min,
                                            std::uint32_t max) {
  std::vector<std::uint32_t> values;
  for (const std::string& item : split_list(flag, text)) {
    const std::size_t dash = item.find('-');
    if (dash == std::string::npos || dash == 0) {
      if (values.size() >= max_list_values)
        throw UsageError(fmt::format("{}: more than {} values", flag.text(), max_list_values));
      values.push_back(static_cast<std::uint32_t>(parse_count(flag, item, min, max)));
    } else {
      expand_range(flag, item, dash, min, max, values);
    }
  }
  return values;
}

std::string_view name_of(OutputFormat format) {
  switch (format) {
    case OutputFormat::markdown: return "md";
    case OutputFormat::csv: return "csv";
    case OutputFormat::json: return "json";
  }
  return "md";
}

OutputFormat parse_output_format(const FlagName& flag, std::string_view text) {
  for (OutputFormat f : {OutputFormat::markdown, OutputFormat::csv, OutputFormat::json})
    if (text == name_of(f)) return f;
  throw UsageError(fmt::format("{}: unknown output format '{}'; expected md, csv or json", flag.text(), text));
}

OutputFormat output_format_of(const FlagName& flag, const std::filesystem::path& path) {
  const std::string extension = path.extension().string();
  if (extension == ".md") return OutputFormat::markdown;
  if (extension == ".csv") return OutputFormat::csv;
  if (extension == ".json") return OutputFormat::json;
  throw UsageError(fmt::format("{}: cannot tell the format of '{}' from its extension; use .md, .csv or .json",
                               flag.text(), path.string()));
}

std::string_view ArgumentCursor::next_flag() {
  const std::string& arg = args_[next_++];
  inline_value_.reset();
  flag_ = arg;
  // Only long flags take "--flag=value"; "-p=5" stays one unknown flag.
  if (arg.starts_with("--")) {
    if (const std::size_t eq = arg.find('='); eq != std::string::npos) {
      flag_ = std::string_view(arg).substr(0, eq);
      inline_value_ = arg.substr(eq + 1);
    }
  }
  return flag_;
}

std::string ArgumentCursor::value(const FlagName& flag) {
  if (inline_value_) return *std::exchange(inline_value_, std::nullopt);
  if (done()) throw UsageError(fmt::format("{}: needs a value", flag.text()));
  return args_[next_++];
}

void ArgumentCursor::no_value(const FlagName& flag) const {
  if (inline_value_) throw UsageError(fmt::format("{}: takes no value", flag.text()));
}

}  // namespace pagoda::bench
