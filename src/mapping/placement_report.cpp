#include "pagoda/mapping/placement_report.hpp"

#include <ostream>

#include <fmt/format.h>

#include "pagoda/mapping/byte_text.hpp"

namespace pagoda::mapping {

namespace {

std::string signed_bytes_text(std::int64_t bytes) {
  if (bytes >= 0) return bytes_text(static_cast<std::uint64_t>(bytes));
  return fmt::format("-{}", bytes_text(static_cast<std::uint64_t>(-(bytes + 1)) + 1));
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : "; ") + item;
  return text;
}

}  // namespace

void record_page_cache_release(PlacementReport& report, const PageCacheRelease& released, double seconds,
                               std::string_view detail) {
  report.notes.push_back(fmt::format("page cache released: {} -> {} resident{}", bytes_text(released.resident_before),
                                     bytes_text(released.resident_after),
                                     detail.empty() ? std::string() : fmt::format(" ({})", detail)));
  if (!released.problem.empty()) report.fallbacks.push_back("page cache not fully released: " + released.problem);
  report.release_seconds = seconds;
}

std::string to_string(const PlacementReport& r) {
  std::string text = fmt::format(
      "{} ({} memory): {} of tensors in {} via {}; VRAM {} (measured delta {}), host registered {}, "
      "staging pinned {}, page cache {}, huge pages {}, page size {}; allocate {:.3f} s, register {:.3f} s, "
      "read {:.3f} s, copy {:.3f} s, release {:.3f} s, total {:.3f} s",
      name_of(r.policy), name_of(r.residence), bytes_text(r.tensor_bytes), r.where, r.fill_path,
      bytes_text(r.vram_bytes), signed_bytes_text(r.vram_delta_bytes), bytes_text(r.host_registered_bytes),
      bytes_text(r.staging_pinned_bytes), bytes_text(r.page_cache_bytes), bytes_text(r.hugepage_bytes),
      bytes_text(r.page_bytes), r.allocate_seconds, r.register_seconds, r.read_seconds, r.copy_seconds,
      r.release_seconds, r.total_seconds);
  if (!r.layouts.empty()) text += "; layouts: " + r.layouts;
  if (!r.prefill_kernels.empty()) text += "; prefill: " + r.prefill_kernels;
  if (!r.decode_path.empty()) text += "; decode: " + r.decode_path;
  text += r.fallbacks.empty() ? "; no fallbacks" : "; fallbacks: " + joined(r.fallbacks);
  if (!r.notes.empty()) text += "; notes: " + joined(r.notes);
  return text;
}

std::ostream& operator<<(std::ostream& out, const PlacementReport& report) {
  return out << to_string(report);
}

}  // namespace pagoda::mapping
