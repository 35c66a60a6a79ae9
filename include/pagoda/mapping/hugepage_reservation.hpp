// Growing a hugetlb pool for the duration of a load, and shrinking it back:
// writes /sys/kernel/mm/hugepages/hugepages-<N>kB/nr_hugepages (root only).
// Used by AnonymousMapping only when the user asked for it — reserving pages
// takes memory away from everything else on the machine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

namespace pagoda::mapping {

class HugepageReservation {
public:
  // Raises the pool of `page_bytes` pages so that `pages` more are free.
  // Returns nullopt with `why_not` set when the file cannot be written or the
  // kernel could not find the memory (the pool is then restored).
  [[nodiscard]] static std::optional<HugepageReservation> try_reserve(const std::filesystem::path& sysfs_root,
                                                                      std::uint64_t page_bytes,
                                                                      std::uint64_t pages,
                                                                      std::string& why_not);
  ~HugepageReservation();  // writes the original nr_hugepages back
  HugepageReservation(HugepageReservation&& other) noexcept;
  HugepageReservation& operator=(HugepageReservation&& other) noexcept;
  HugepageReservation(const HugepageReservation&) = delete;
  HugepageReservation& operator=(const HugepageReservation&) = delete;

  [[nodiscard]] std::uint64_t added_pages() const { return added_pages_; }

private:
  HugepageReservation(std::filesystem::path nr_file, std::uint64_t original, std::uint64_t added)
      : nr_file_(std::move(nr_file)), original_pages_(original), added_pages_(added) {}

  std::filesystem::path nr_file_;  // empty once moved from
  std::uint64_t original_pages_ = 0;
  std::uint64_t added_pages_ = 0;
};

}  // namespace pagoda::mapping
