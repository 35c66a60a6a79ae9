// Anonymous memory that pagoda owns, on the largest pages the system offers:
// hugetlb (1 GiB, then 2 MiB) where a pool has the pages (or may be grown,
// when asked and permitted), else transparent hugepages (MADV_HUGEPAGE), else
// base pages — each step down recorded with its reason, never silently.
// Writability is part of the type: an AnonymousMapping is writable (the
// loader fills it and zeroes padding); seal() turns it into a
// ReadOnlyAnonymousMapping (mprotect PROT_READ) whose bytes are const. The
// brief's SIGSEGV came from writing through a read-only map; here the
// compiler refuses that write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/mapping/hugepage_reservation.hpp"

namespace pagoda::mapping {

// The user's hugepage-size choice (`--hugepage-size auto|1g|2m|none`).
enum class HugepageSize : std::uint8_t { automatic, gib_1, mib_2, none };
[[nodiscard]] HugepageSize parse_hugepage_size(std::string_view text);  // throws on unknown
[[nodiscard]] std::string_view name_of(HugepageSize size);

enum class PageBacking : std::uint8_t { hugetlb, transparent, base };

struct AnonymousRequest {
  HugepageSize hugepage_size = HugepageSize::automatic;
  // Grow a hugetlb pool (nr_hugepages) that lacks pages; needs write access
  // to sysfs (root). The pool is shrunk back when the mapping is released.
  bool reserve_hugepages = false;
  // Without hugetlb pages, fall back to THP / base pages (reported); when
  // false, throw instead.
  bool allow_fallback = true;
  std::filesystem::path sysfs_root = "/";  // where sys/kernel/mm/hugepages lives
};

namespace detail {

// An mmap'd range, unmapped on destruction. Move-only.
class MappedRegion {
public:
  MappedRegion() = default;
  MappedRegion(void* address, std::size_t size) : address_(address), size_(size) {}
  ~MappedRegion();
  MappedRegion(MappedRegion&& other) noexcept;
  MappedRegion& operator=(MappedRegion&& other) noexcept;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;

  [[nodiscard]] std::byte* data() const { return static_cast<std::byte*>(address_); }
  [[nodiscard]] std::size_t size() const { return size_; }

private:
  void* address_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace detail

class ReadOnlyAnonymousMapping;

class AnonymousMapping {
public:
  // At least `bytes` of zero-filled, writable, page-aligned memory. Throws
  // pagoda::Error when no backing can be had (or hugetlb failed and
  // request.allow_fallback is false), naming every attempt.
  [[nodiscard]] static AnonymousMapping allocate(std::uint64_t bytes, const AnonymousRequest& request,
                                                 const OsCapabilities& os);

  // The requested bytes (the mapping may be larger: whole pages).
  [[nodiscard]] std::span<std::byte> bytes() const { return {region_.data(), requested_}; }
  // Everything mapped, requested bytes then the rounding to whole pages.
  [[nodiscard]] std::span<std::byte> mapped_bytes() const { return {region_.data(), region_.size()}; }
  [[nodiscard]] PageBacking backing() const { return backing_; }
  [[nodiscard]] std::uint64_t page_bytes() const { return page_bytes_; }
  // "hugetlb 2 MiB pages", "transparent huge pages (THP madvise)", "base 4 KiB pages".
  [[nodiscard]] std::string description() const;
  [[nodiscard]] const std::vector<std::string>& fallbacks() const { return fallbacks_; }
  // Bytes actually on huge pages: all of it for hugetlb, the kernel's
  // AnonHugePages count (/proc/self/smaps) for THP, 0 for base pages.
  [[nodiscard]] std::uint64_t huge_page_bytes() const;

  // mprotect(PROT_READ) of the whole mapping; from then on the bytes are const.
  [[nodiscard]] ReadOnlyAnonymousMapping seal() &&;

private:
  friend class ReadOnlyAnonymousMapping;
  AnonymousMapping() = default;

  // Declared before region_: destroyed after it, so the pool shrinks only
  // once the pages are unmapped.
  std::optional<HugepageReservation> reservation_;
  detail::MappedRegion region_;
  std::uint64_t requested_ = 0;
  PageBacking backing_ = PageBacking::base;
  std::uint64_t page_bytes_ = 0;
  std::vector<std::string> fallbacks_;
};

class ReadOnlyAnonymousMapping {
public:
  [[nodiscard]] std::span<const std::byte> bytes() const { return memory_.bytes(); }
  [[nodiscard]] std::span<const std::byte> mapped_bytes() const { return memory_.mapped_bytes(); }
  [[nodiscard]] PageBacking backing() const { return memory_.backing(); }
  [[nodiscard]] std::uint64_t page_bytes() const { return memory_.page_bytes(); }
  [[nodiscard]] std::string description() const { return memory_.description(); }
  [[nodiscard]] const std::vector<std::string>& fallbacks() const { return memory_.fallbacks(); }
  [[nodiscard]] std::uint64_t huge_page_bytes() const { return memory_.huge_page_bytes(); }

private:
  friend class AnonymousMapping;
  explicit ReadOnlyAnonymousMapping(AnonymousMapping&& memory) : memory_(std::move(memory)) {}
  AnonymousMapping memory_;
};

}  // namespace pagoda::mapping
