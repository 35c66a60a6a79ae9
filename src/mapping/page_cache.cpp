#include "pagoda/mapping/page_cache.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <linux/kernel-page-flags.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include "pagoda/mapping/byte_range.hpp"

namespace pagoda::mapping {

namespace {

std::uint64_t page_size() {
  const long page = ::sysconf(_SC_PAGESIZE);
  return page > 0 ? static_cast<std::uint64_t>(page) : 4096;
}

// The whole pages covering `mapped`, as an address range.
ByteRange page_cover_of(std::span<const std::byte> mapped) {
  return page_cover({reinterpret_cast<std::uintptr_t>(mapped.data()), mapped.size()}, page_size());
}

// Two descriptors closed on destruction.
struct FileDescriptorPair {
  int pagemap;
  int flags;
  FileDescriptorPair(int pagemap_fd, int flags_fd) : pagemap(pagemap_fd), flags(flags_fd) {}
  ~FileDescriptorPair() {
    if (pagemap >= 0) ::close(pagemap);
    if (flags >= 0) ::close(flags);
  }
  FileDescriptorPair(const FileDescriptorPair&) = delete;
  FileDescriptorPair& operator=(const FileDescriptorPair&) = delete;
};

}  // namespace

std::uint64_t resident_bytes(std::span<const std::byte> mapped) {
  if (mapped.empty()) return 0;
  const std::uint64_t page = page_size();
  const ByteRange cover = page_cover_of(mapped);
  std::vector<unsigned char> resident(cover.size / page);
  if (::mincore(reinterpret_cast<void*>(cover.offset), cover.size, resident.data()) != 0) return 0;
  std::uint64_t pages = 0;
  for (unsigned char r : resident) pages += r & 1u;
  return pages * page;
}

ByteRange folio_cover(ByteRange range, std::uint64_t file_size) {
  const std::uint64_t begin = std::min(align_down(range.offset, page_cache_folio_bytes), file_size);
  const std::uint64_t end = std::min(align_up(range.end(), page_cache_folio_bytes), file_size);
  return {begin, end - begin};
}

PageCacheRelease release_pages(const ReadOnlyFile& file, ByteRange range) {
  PageCacheRelease release;
  const std::span<const std::byte> whole = file.bytes();
  if (range.size == 0 || range.end() > whole.size()) return release;
  const std::span<const std::byte> mapped = whole.subspan(range.offset, range.size);
  release.resident_before = resident_bytes(mapped);
  const ByteRange cover = page_cover_of(mapped);
  if (::madvise(reinterpret_cast<void*>(cover.offset), cover.size, MADV_DONTNEED) != 0)
    release.problem = fmt::format("madvise(MADV_DONTNEED) failed: {}", std::strerror(errno));
  if (const int error = ::posix_fadvise(file.fd(), static_cast<off_t>(range.offset), static_cast<off_t>(range.size),
                                        POSIX_FADV_DONTNEED);
      error != 0)
    release.problem += fmt::format("{}posix_fadvise(POSIX_FADV_DONTNEED) failed: {}",
                                   release.problem.empty() ? "" : "; ", std::strerror(error));
  release.resident_after = resident_bytes(mapped);
  return release;
}

PageCacheRelease release_page_cache(const ReadOnlyFile& file, ByteRange range) {
  if (range.size == 0) return {};
  PageCacheRelease release = release_pages(file, folio_cover(range, file.bytes().size()));
  stop_read_around(file);
  return release;
}

void stop_read_around(const ReadOnlyFile& file) {
  const std::span<const std::byte> whole = file.bytes();
  if (whole.empty()) return;
  const ByteRange cover = page_cover_of(whole);
  // Advice only: a refusal leaves read-around on, which costs RAM, not correctness.
  (void)::madvise(reinterpret_cast<void*>(cover.offset), cover.size, MADV_RANDOM);
}

FolioScan scan_folios(std::span<const std::byte> mapped, FolioScanExtent extent) {
  FolioScan scan;
  if (mapped.empty()) {
    scan.known = true;
    return scan;
  }
  const std::uint64_t page = page_size();
  const ByteRange cover = page_cover_of(mapped);
  const std::uint64_t total_pages = cover.size / page;
  const auto* const first = reinterpret_cast<const volatile unsigned char*>(cover.offset);

  const FileDescriptorPair fds{::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC),
                               ::open("/proc/kpageflags", O_RDONLY | O_CLOEXEC)};
  if (fds.pagemap < 0 || fds.flags < 0) {
    scan.unknown_reason = fmt::format("cannot open /proc/self/pagemap or /proc/kpageflags: {}", std::strerror(errno));
    return scan;
  }
  constexpr std::uint64_t present = std::uint64_t{1} << 63;
  constexpr std::uint64_t pfn_mask = (std::uint64_t{1} << 55) - 1;
  constexpr std::uint64_t compound = (std::uint64_t{1} << KPF_COMPOUND_HEAD) | (std::uint64_t{1} << KPF_COMPOUND_TAIL);
  std::vector<std::uint64_t> entries(std::min<std::uint64_t>(total_pages, 1 << 14));
  std::vector<std::uint64_t> flags;
  for (std::uint64_t done = 0; done < total_pages;) {
    const std::uint64_t n = std::min<std::uint64_t>(entries.size(), total_pages - done);
    // Fault this stretch in: pagemap only knows the frames of mapped pages.
    unsigned char sink = 0;
    for (std::uint64_t i = done; i < done + n; ++i) sink = static_cast<unsigned char>(sink ^ first[i * page]);
    (void)sink;
    const auto at = static_cast<off_t>((cover.offset / page + done) * sizeof(std::uint64_t));
    if (::pread(fds.pagemap, entries.data(), n * sizeof(std::uint64_t), at) != static_cast<ssize_t>(n * sizeof(std::uint64_t))) {
      scan.unknown_reason = fmt::format("reading /proc/self/pagemap failed: {}", std::strerror(errno));
      return scan;
    }
    // Frames of one folio are consecutive: read their flags run by run.
    for (std::uint64_t i = 0; i < n;) {
      const std::uint64_t pfn = entries[i] & pfn_mask;
      if ((entries[i] & present) == 0 || pfn == 0) {
        scan.unknown_reason = "page frame numbers are hidden (reading them needs CAP_SYS_ADMIN)";
        return scan;
      }
      std::uint64_t run = 1;
      while (i + run < n && (entries[i + run] & pfn_mask) == pfn + run && run < 4096) ++run;
      flags.resize(run);
      if (::pread(fds.flags, flags.data(), run * sizeof(std::uint64_t), static_cast<off_t>(pfn * sizeof(std::uint64_t))) !=
          static_cast<ssize_t>(run * sizeof(std::uint64_t))) {
        scan.unknown_reason = fmt::format("reading /proc/kpageflags failed: {}", std::strerror(errno));
        return scan;
      }
      for (std::uint64_t f : flags) scan.large_folio_pages += (f & compound) != 0 ? 1 : 0;
      i += run;
    }
    done += n;
    scan.pages = done;
    if (extent == FolioScanExtent::until_first_large && scan.large_folio_pages != 0) break;
  }
  scan.known = true;
  return scan;
}

}  // namespace pagoda::mapping
