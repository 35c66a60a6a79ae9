#include "pagoda_bench/process_memory.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace pagoda::bench {

namespace {

// "   123 kB" -> 123 * 1024; nullopt for anything else.
std::optional<std::uint64_t> kilobytes(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  std::uint64_t number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (error != std::errc{} || end == value.data()) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(value.data() + value.size() - end));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  while (!unit.empty() && (unit.back() == ' ' || unit.back() == '\r')) unit.remove_suffix(1);
  if (unit != "kB") return std::nullopt;
  return number * 1024;
}

}  // namespace

std::optional<ResidentMemory> parse_proc_status(std::string_view text) {
  ResidentMemory memory;
  bool found_rss = false;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    const auto value = kilobytes(line.substr(colon + 1));
    if (!value) continue;
    if (key == "VmRSS") {
      memory.rss_bytes = *value;
      found_rss = true;
    } else if (key == "RssAnon") {
      memory.rss_anon_bytes = *value;
    } else if (key == "RssFile") {
      memory.rss_file_bytes = *value;
    } else if (key == "RssShmem") {
      memory.rss_shmem_bytes = *value;
    }
  }
  if (!found_rss) return std::nullopt;
  return memory;
}

std::optional<ResidentMemory> resident_memory() {
  std::ifstream in("/proc/self/status");
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return parse_proc_status(text.str());
}

}  // namespace pagoda::bench
