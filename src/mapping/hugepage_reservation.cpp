#include "pagoda/mapping/hugepage_reservation.hpp"

#include <fstream>
#include <utility>

#include <fmt/format.h>

namespace pagoda::mapping {

namespace {

std::optional<std::uint64_t> read_count(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::uint64_t value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

bool write_count(const std::filesystem::path& path, std::uint64_t value) {
  std::ofstream out(path);
  out << value << '\n';
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

std::optional<HugepageReservation> HugepageReservation::try_reserve(const std::filesystem::path& sysfs_root,
                                                                    std::uint64_t page_bytes,
                                                                    std::uint64_t pages,
                                                                    std::string& why_not) {
  const std::filesystem::path pool =
      sysfs_root / "sys/kernel/mm/hugepages" / fmt::format("hugepages-{}kB", page_bytes / 1024);
  const auto total = read_count(pool / "nr_hugepages");
  const auto free = read_count(pool / "free_hugepages");
  if (!total || !free) {
    why_not = fmt::format("cannot read {}", pool.string());
    return std::nullopt;
  }
  if (*free >= pages) return HugepageReservation(pool / "nr_hugepages", *total, 0);
  const std::uint64_t wanted = *total + (pages - *free);
  if (!write_count(pool / "nr_hugepages", wanted)) {
    why_not = fmt::format("writing {} to {} was refused (reserving hugepages needs root)", wanted,
                          (pool / "nr_hugepages").string());
    return std::nullopt;
  }
  // The kernel grants what it can find contiguous; check what it gave.
  HugepageReservation reservation(pool / "nr_hugepages", *total, wanted - *total);
  const auto now_free = read_count(pool / "free_hugepages").value_or(0);
  if (now_free < pages) {
    why_not = fmt::format("asked the kernel for {} pages of {} KiB, got {} free", pages, page_bytes / 1024,
                          now_free);
    return std::nullopt;  // the reservation's destructor restores the pool
  }
  return reservation;
}

HugepageReservation::~HugepageReservation() {
  // Best effort: a destructor cannot report, and the pool only holds pages
  // nothing uses any more.
  if (!nr_file_.empty() && added_pages_ != 0) write_count(nr_file_, original_pages_);
}

HugepageReservation::HugepageReservation(HugepageReservation&& other) noexcept
    : nr_file_(std::exchange(other.nr_file_, {})),
      original_pages_(other.original_pages_),
      added_pages_(std::exchange(other.added_pages_, 0)) {}

HugepageReservation& HugepageReservation::operator=(HugepageReservation&& other) noexcept {
  if (this != &other) {
    HugepageReservation old(std::move(*this));
    nr_file_ = std::exchange(other.nr_file_, {});
    original_pages_ = other.original_pages_;
    added_pages_ = std::exchange(other.added_pages_, 0);
  }
  return *this;
}

}  // namespace pagoda::mapping
