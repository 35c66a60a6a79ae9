#include "pagoda/mapping/byte_text.hpp"

#include <array>

#include <fmt/format.h>

namespace pagoda::mapping {

std::string bytes_text(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static constexpr std::array<const char*, 6> units{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < units.size()) {
    value /= 1024.0;
    ++unit;
  }
  if (value >= 100.0) return fmt::format("{:.0f} {}", value, units[unit]);
  if (value >= 10.0) return fmt::format("{:.1f} {}", value, units[unit]);
  return fmt::format("{:.2f} {}", value, units[unit]);
}

}  // namespace pagoda::mapping
