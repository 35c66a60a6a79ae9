#include "pagoda/mapping/anonymous_mapping.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include <sys/mman.h>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/mapping/byte_text.hpp"
#include "pagoda/mapping/byte_range.hpp"

namespace pagoda::mapping {

namespace {

constexpr std::uint64_t thp_bytes = std::uint64_t{2} << 20;  // x86-64 / 4 KiB-page arm64 PMD size
constexpr std::uint64_t gib = std::uint64_t{1} << 30;

std::vector<std::uint64_t> hugetlb_sizes_for(HugepageSize size) {
  switch (size) {
    case HugepageSize::automatic: return {gib, thp_bytes};
    case HugepageSize::gib_1: return {gib};
    case HugepageSize::mib_2: return {thp_bytes};
    case HugepageSize::none: return {};
  }
  return {};
}

std::string errno_text(int error) { return fmt::format("{} ({})", std::strerror(error), error); }

// AnonHugePages of the smaps entry (VMA) holding `address`, at most `size`.
// An entry opens with "start-end perms ..."; its fields are "Key: value" lines.
std::uint64_t smaps_anon_huge_bytes(const void* address, std::uint64_t size) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  bool in_entry = false;
  for (std::string line; std::getline(smaps, line);) {
    const std::string_view first_token = std::string_view(line).substr(0, line.find(' '));
    if (!first_token.ends_with(':')) {
      std::uintptr_t begin = 0;
      std::uintptr_t end = 0;
      char dash = 0;
      std::istringstream range{std::string(first_token)};
      range >> std::hex >> begin >> dash >> end;
      in_entry = dash == '-' && begin <= at && at < end;
    } else if (in_entry && first_token == "AnonHugePages:") {
      std::istringstream fields(line.substr(first_token.size()));
      std::uint64_t kib = 0;
      fields >> kib;
      return std::min(kib * 1024, size);
    }
  }
  return 0;
}

}  // namespace

namespace detail {

MappedRegion::~MappedRegion() {
  if (address_ != nullptr) ::munmap(address_, size_);
}

MappedRegion::MappedRegion(MappedRegion&& other) noexcept
    : address_(std::exchange(other.address_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
  if (this != &other) {
    MappedRegion old(std::move(*this));
    address_ = std::exchange(other.address_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

}  // namespace detail

HugepageSize parse_hugepage_size(std::string_view text) {
  if (text == "auto") return HugepageSize::automatic;
  if (text == "1g" || text == "1G" || text == "1GiB") return HugepageSize::gib_1;
  if (text == "2m" || text == "2M" || text == "2MiB") return HugepageSize::mib_2;
  if (text == "none") return HugepageSize::none;
  fail("unknown hugepage size `{}`; expected auto, 1g, 2m or none", text);
}

std::string_view name_of(HugepageSize size) {
  switch (size) {
    case HugepageSize::automatic: return "auto";
    case HugepageSize::gib_1: return "1g";
    case HugepageSize::mib_2: return "2m";
    case HugepageSize::none: return "none";
  }
  return "unknown";
}

AnonymousMapping AnonymousMapping::allocate(std::uint64_t bytes, const AnonymousRequest& request,
                                            const OsCapabilities& os) {
  if (bytes == 0) fail("AnonymousMapping: a mapping of 0 bytes was requested");
  AnonymousMapping memory;
  memory.requested_ = bytes;

  for (const std::uint64_t page : hugetlb_sizes_for(request.hugepage_size)) {
    const std::string label = fmt::format("hugetlb {} pages", bytes_text(page));
    const HugepagePool* pool = os.pool(page);
    if (pool == nullptr) {
      memory.fallbacks_.push_back(fmt::format("{}: the kernel offers no such pool", label));
      continue;
    }
    const std::uint64_t pages = (bytes + page - 1) / page;
    std::optional<HugepageReservation> reservation;
    if (pool->available_pages() < pages) {
      std::string why_not = fmt::format("{} free, {} needed", pool->available_pages(), pages);
      if (!request.reserve_hugepages) {
        memory.fallbacks_.push_back(fmt::format("{}: {} (reserving pages was not requested)", label, why_not));
        continue;
      }
      if (!pool->reservable) {
        memory.fallbacks_.push_back(
            fmt::format("{}: {}, and this process may not reserve more (nr_hugepages is not writable)", label, why_not));
        continue;
      }
      reservation = HugepageReservation::try_reserve(request.sysfs_root, page, pages, why_not);
      if (!reservation) {
        memory.fallbacks_.push_back(fmt::format("{}: reserving {} pages failed: {}", label, pages, why_not));
        continue;
      }
    }
    const int size_flag = std::countr_zero(page) << MAP_HUGE_SHIFT;
    void* address = ::mmap(nullptr, pages * page, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | size_flag, -1, 0);
    if (address == MAP_FAILED) {
      memory.fallbacks_.push_back(fmt::format("{}: mmap of {} failed: {}", label, bytes_text(pages * page),
                                              errno_text(errno)));
      continue;
    }
    memory.reservation_ = std::move(reservation);
    memory.region_ = detail::MappedRegion(address, pages * page);
    memory.backing_ = PageBacking::hugetlb;
    memory.page_bytes_ = page;
    return memory;
  }

  if (!request.allow_fallback && request.hugepage_size != HugepageSize::none) {
    std::string attempts;
    for (const std::string& f : memory.fallbacks_) attempts += "\n  " + f;
    fail("AnonymousMapping: no hugetlb pages for {} and fallback is not allowed:{}", bytes_text(bytes), attempts);
  }

  // THP: a 2 MiB-aligned anonymous range, MADV_HUGEPAGE'd. Over-map by one
  // huge page and trim, since mmap only promises base-page alignment.
  const std::uint64_t size = align_up(bytes, thp_bytes);
  void* raw = ::mmap(nullptr, size + thp_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    fail("AnonymousMapping: mmap of {} of anonymous memory failed: {}", bytes_text(size), errno_text(errno));
  auto* const begin = static_cast<std::byte*>(raw);
  auto* const aligned = begin + (align_up(reinterpret_cast<std::uintptr_t>(begin), thp_bytes) -
                                 reinterpret_cast<std::uintptr_t>(begin));
  if (aligned != begin) ::munmap(begin, static_cast<std::size_t>(aligned - begin));
  if (const std::size_t tail = static_cast<std::size_t>(begin + size + thp_bytes - (aligned + size)); tail != 0)
    ::munmap(aligned + size, tail);
  memory.region_ = detail::MappedRegion(aligned, size);

  const std::string_view why = request.hugepage_size == HugepageSize::none
                                   ? "hugetlb not requested (--hugepage-size none)"
                                   : "no hugetlb pages";
  if (os.thp_mode == ThpMode::never || os.thp_mode == ThpMode::unavailable) {
    memory.fallbacks_.push_back(
        fmt::format("{}, and THP is {}: base {} pages", why, name_of(os.thp_mode), bytes_text(os.page_bytes)));
    memory.backing_ = PageBacking::base;
    memory.page_bytes_ = os.page_bytes;
  } else if (::madvise(aligned, size, MADV_HUGEPAGE) != 0) {
    memory.fallbacks_.push_back(
        fmt::format("{}, and madvise(MADV_HUGEPAGE) failed: {}: base pages", why, errno_text(errno)));
    memory.backing_ = PageBacking::base;
    memory.page_bytes_ = os.page_bytes;
  } else {
    memory.fallbacks_.push_back(fmt::format("{}: transparent huge pages (THP {})", why, name_of(os.thp_mode)));
    memory.backing_ = PageBacking::transparent;
    memory.page_bytes_ = thp_bytes;
  }
  return memory;
}

std::string AnonymousMapping::description() const {
  switch (backing_) {
    case PageBacking::hugetlb: return fmt::format("hugetlb {} pages", bytes_text(page_bytes_));
    case PageBacking::transparent: return fmt::format("transparent huge pages ({})", bytes_text(page_bytes_));
    case PageBacking::base: return fmt::format("base {} pages", bytes_text(page_bytes_));
  }
  return "unknown pages";
}

std::uint64_t AnonymousMapping::huge_page_bytes() const {
  switch (backing_) {
    case PageBacking::hugetlb: return region_.size();
    case PageBacking::transparent: return smaps_anon_huge_bytes(region_.data(), region_.size());
    case PageBacking::base: return 0;
  }
  return 0;
}

ReadOnlyAnonymousMapping AnonymousMapping::seal() && {
  if (region_.size() != 0 && ::mprotect(region_.data(), region_.size(), PROT_READ) != 0)
    fail("AnonymousMapping: mprotect(PROT_READ) of {} failed: {}", bytes_text(region_.size()),
         errno_text(errno));
  return ReadOnlyAnonymousMapping(std::move(*this));
}

}  // namespace pagoda::mapping
