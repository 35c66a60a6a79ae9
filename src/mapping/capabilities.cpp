// The OS half of the capability probe (the device half is cuda/mapping/probe_device.cu):
// sysfs and procfs text parsed into values. Absent files mean "not offered",
// never an error — selection decides what that implies.
#include "pagoda/mapping/capabilities.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include "pagoda/mapping/byte_text.hpp"

namespace pagoda::mapping {

namespace {

std::optional<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end == text.data()) return std::nullopt;
  return value;
}

std::uint64_t read_u64_or_zero(const std::filesystem::path& path) {
  const auto text = read_text(path);
  return text ? parse_u64(*text).value_or(0) : 0;
}

// "hugepages-2048kB" -> 2 MiB.
std::optional<std::uint64_t> pool_page_bytes(std::string_view directory_name) {
  constexpr std::string_view prefix = "hugepages-";
  constexpr std::string_view suffix = "kB";
  if (!directory_name.starts_with(prefix) || !directory_name.ends_with(suffix)) return std::nullopt;
  directory_name.remove_prefix(prefix.size());
  directory_name.remove_suffix(suffix.size());
  const auto kib = parse_u64(directory_name);
  if (!kib || *kib == 0) return std::nullopt;
  return *kib * 1024;
}

std::vector<HugepagePool> read_hugepage_pools(const std::filesystem::path& directory) {
  std::vector<HugepagePool> pools;
  std::error_code error;
  for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
       it.increment(error)) {
    const auto page_bytes = pool_page_bytes(it->path().filename().string());
    if (!page_bytes) continue;
    HugepagePool pool;
    pool.page_bytes = *page_bytes;
    pool.total_pages = read_u64_or_zero(it->path() / "nr_hugepages");
    pool.free_pages = read_u64_or_zero(it->path() / "free_hugepages");
    pool.reserved_pages = read_u64_or_zero(it->path() / "resv_hugepages");
    pool.reservable = ::access((it->path() / "nr_hugepages").c_str(), W_OK) == 0;
    pools.push_back(pool);
  }
  std::ranges::sort(pools, {}, &HugepagePool::page_bytes);
  return pools;
}

// A "Key:   123 kB" line of /proc/meminfo, in bytes.
std::uint64_t meminfo_bytes(std::string_view meminfo, std::string_view key) {
  std::istringstream lines{std::string(meminfo)};
  for (std::string line; std::getline(lines, line);) {
    const std::string_view view(line);
    if (view.starts_with(key) && view.size() > key.size() && view[key.size()] == ':')
      return parse_u64(view.substr(key.size() + 1)).value_or(0) * 1024;
  }
  return 0;
}

}  // namespace

const HugepagePool* OsCapabilities::pool(std::uint64_t page_size) const {
  for (const HugepagePool& p : hugepage_pools)
    if (p.page_bytes == page_size) return &p;
  return nullptr;
}

ThpMode parse_thp_mode(std::string_view text) {
  const auto open = text.find('[');
  const auto close = text.find(']', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return ThpMode::unavailable;
  const std::string_view mode = text.substr(open + 1, close - open - 1);
  if (mode == "always") return ThpMode::always;
  if (mode == "madvise") return ThpMode::madvise;
  if (mode == "never") return ThpMode::never;
  return ThpMode::unavailable;
}

std::string_view name_of(ThpMode mode) {
  switch (mode) {
    case ThpMode::always: return "always";
    case ThpMode::madvise: return "madvise";
    case ThpMode::never: return "never";
    case ThpMode::unavailable: return "unavailable";
  }
  return "unknown";
}

OsCapabilities probe_os(const std::filesystem::path& root) {
  OsCapabilities os;
  os.hugepage_pools = read_hugepage_pools(root / "sys/kernel/mm/hugepages");
  if (const auto thp = read_text(root / "sys/kernel/mm/transparent_hugepage/enabled"))
    os.thp_mode = parse_thp_mode(*thp);
  if (rlimit limit{}; ::getrlimit(RLIMIT_MEMLOCK, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    os.memlock_limit_bytes = static_cast<std::uint64_t>(limit.rlim_cur);
  if (const long page = ::sysconf(_SC_PAGESIZE); page > 0) os.page_bytes = static_cast<std::uint64_t>(page);
  if (const auto meminfo = read_text(root / "proc/meminfo")) {
    os.total_ram_bytes = meminfo_bytes(*meminfo, "MemTotal");
    os.available_ram_bytes = meminfo_bytes(*meminfo, "MemAvailable");
  }
  return os;
}

std::string describe(const DeviceCapabilities& d) {
  if (!d.present) return fmt::format("no CUDA device: {}", d.absent_reason);
  return fmt::format(
      "device {} {} (sm_{}{}{}): VRAM {} free of {}; pageableMemoryAccess={} (host page tables {}), "
      "hostRegister={} (read-only {}), hostPointerForRegisteredMem={}, concurrentManagedAccess={}",
      d.ordinal, d.name, d.compute_major, d.compute_minor, d.integrated ? ", integrated" : "",
      bytes_text(d.free_vram_bytes), bytes_text(d.total_vram_bytes), int{d.pageable_memory_access},
      int{d.pageable_memory_access_uses_host_page_tables}, int{d.host_register_supported},
      int{d.host_register_read_only_supported}, int{d.can_use_host_pointer_for_registered_mem},
      int{d.concurrent_managed_access});
}

std::string describe(const OsCapabilities& os) {
  std::string pools;
  for (const HugepagePool& p : os.hugepage_pools)
    pools += fmt::format("{}{} x {} ({} free{})", pools.empty() ? "" : ", ", p.total_pages,
                         bytes_text(p.page_bytes), p.available_pages(), p.reservable ? ", reservable" : "");
  return fmt::format("RAM {} available of {}; page {}; hugetlb pools: {}; THP {}; memlock {}",
                     bytes_text(os.available_ram_bytes), bytes_text(os.total_ram_bytes),
                     bytes_text(os.page_bytes), pools.empty() ? "none" : pools, name_of(os.thp_mode),
                     os.memlock_limit_bytes ? bytes_text(*os.memlock_limit_bytes) : "unlimited");
}

}  // namespace pagoda::mapping
