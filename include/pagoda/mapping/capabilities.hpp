// What the platform can do for weight placement, as one plain struct: the
// CUDA device's attributes that decide which mapping policies can work, and
// the OS's hugepage pools, THP mode and memory limits. Filled by a probe split
// in two — probe_os() (host-only, src/mapping/capabilities.cpp) and
// probe_device() (cuda/mapping/probe_device.cu) — so selection (mapping/selection.hpp)
// is a pure function of it, unit-tested on named presets
// (mapping/capability_presets.hpp) without a GPU.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pagoda::mapping {

// The CUDA device, as cudaDeviceGetAttribute and cudaMemGetInfo report it.
// Field names mirror the attributes (cudaDevAttrPageableMemoryAccess ->
// pageable_memory_access).
struct DeviceCapabilities {
  bool present = false;
  std::string absent_reason;  // why not, when !present (the CUDA error, or "no devices")
  int ordinal = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  bool integrated = false;  // shares physical memory with the CPU (APU, Jetson, GB10)
  // The GPU reads pageable host memory (malloc, file mmap) directly: HMM or ATS.
  bool pageable_memory_access = false;
  // ... through the CPU's own page tables (ATS over a coherent link: GH200, GB10).
  bool pageable_memory_access_uses_host_page_tables = false;
  bool host_register_supported = false;
  // cudaHostRegisterReadOnly works: the only way to register a PROT_READ mapping.
  bool host_register_read_only_supported = false;
  // A registered host pointer is itself a valid device pointer.
  bool can_use_host_pointer_for_registered_mem = false;
  bool concurrent_managed_access = false;  // cudaMemAdvise/cudaMemPrefetchAsync hints apply
  std::uint64_t free_vram_bytes = 0;
  std::uint64_t total_vram_bytes = 0;
};

// One hugetlb pool (/sys/kernel/mm/hugepages/hugepages-<N>kB).
struct HugepagePool {
  std::uint64_t page_bytes = 0;
  std::uint64_t total_pages = 0;     // nr_hugepages
  std::uint64_t free_pages = 0;      // free_hugepages (includes reserved ones)
  std::uint64_t reserved_pages = 0;  // resv_hugepages: promised to mappings already
  bool reservable = false;           // nr_hugepages is writable by this process

  // Pages a new mapping can still get.
  [[nodiscard]] std::uint64_t available_pages() const {
    return free_pages > reserved_pages ? free_pages - reserved_pages : 0;
  }
  [[nodiscard]] std::uint64_t available_bytes() const { return available_pages() * page_bytes; }
};

// /sys/kernel/mm/transparent_hugepage/enabled.
enum class ThpMode : std::uint8_t { always, madvise, never, unavailable };

struct OsCapabilities {
  std::vector<HugepagePool> hugepage_pools;  // ascending page size
  ThpMode thp_mode = ThpMode::unavailable;
  std::optional<std::uint64_t> memlock_limit_bytes;  // RLIMIT_MEMLOCK soft; nullopt: unlimited
  std::uint64_t page_bytes = 4096;
  std::uint64_t total_ram_bytes = 0;      // MemTotal
  std::uint64_t available_ram_bytes = 0;  // MemAvailable (page cache counts as available)

  // The pool with exactly this page size, or nullptr.
  [[nodiscard]] const HugepagePool* pool(std::uint64_t page_bytes) const;
};

struct Capabilities {
  DeviceCapabilities device;
  OsCapabilities os;
};

// Reads the OS side from `root` ("/" on a real system; tests point it at a
// fake tree holding sys/kernel/mm/... and proc/meminfo). Missing files give
// empty pools, ThpMode::unavailable and zero RAM, never an error: a platform
// without hugetlb is a fact to select on, not a failure.
[[nodiscard]] OsCapabilities probe_os(const std::filesystem::path& root = "/");

// Reads device `ordinal`'s attributes and free/total memory (creating its
// CUDA context). Without a usable device: present == false with the reason.
// A device that exists but fails a query throws pagoda::Error naming the call.
// Defined in cuda/mapping/probe_device.cu (pagoda_cuda).
[[nodiscard]] DeviceCapabilities probe_device(int ordinal = 0);

// probe_os() and probe_device(ordinal) together (pagoda_cuda).
[[nodiscard]] Capabilities probe(int ordinal = 0);

// "always [madvise] never" -> ThpMode::madvise; unavailable when no mode is bracketed.
[[nodiscard]] ThpMode parse_thp_mode(std::string_view enabled_file_text);
[[nodiscard]] std::string_view name_of(ThpMode mode);

// One line each, for logs and reports.
[[nodiscard]] std::string describe(const DeviceCapabilities& device);
[[nodiscard]] std::string describe(const OsCapabilities& os);

}  // namespace pagoda::mapping
