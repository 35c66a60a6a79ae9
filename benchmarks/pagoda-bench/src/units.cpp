#include "pagoda_bench/units.hpp"

#include <fmt/format.h>

namespace pagoda::bench {

std::string size_text(std::uint64_t bytes) {
  constexpr double kib = 1024.0;
  const auto b = static_cast<double>(bytes);
  if (bytes >= (1ull << 30)) return fmt::format("{:.2f} GiB", b / (kib * kib * kib));
  if (bytes >= (1ull << 20)) return fmt::format("{:.2f} MiB", b / (kib * kib));
  if (bytes >= (1ull << 10)) return fmt::format("{:.2f} KiB", b / kib);
  return fmt::format("{} B", bytes);
}

std::string signed_size_text(std::int64_t bytes) {
  if (bytes == 0) return "0 B";
  // Negate in unsigned arithmetic: INT64_MIN has no positive counterpart.
  const std::uint64_t magnitude = bytes < 0 ? 0 - static_cast<std::uint64_t>(bytes) : static_cast<std::uint64_t>(bytes);
  std::string text = bytes < 0 ? "-" : "+";
  text += size_text(magnitude);
  return text;
}

std::string count_text(std::uint64_t count) {
  const auto c = static_cast<double>(count);
  if (count >= 1'000'000'000ull) return fmt::format("{:.2f} B", c / 1e9);
  if (count >= 1'000'000ull) return fmt::format("{:.2f} M", c / 1e6);
  if (count >= 1'000ull) return fmt::format("{:.2f} K", c / 1e3);
  return fmt::format("{}", count);
}

std::string mean_stddev_text(double mean, double stddev) { return fmt::format("{:.2f} ± {:.2f}", mean, stddev); }

}  // namespace pagoda::bench
