// How much of a file mapping sits in RAM, and letting go of it once the
// weights live elsewhere (VRAM, or anonymous memory pagoda owns), so a load
// does not leave the model in RAM twice (llama.cpp keeps 4.9 GB of RSS after
// putting an 8B model on the GPU).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "pagoda/mapping/byte_range.hpp"
#include "pagoda/mapping/read_only_file.hpp"

namespace pagoda::mapping {

// Bytes of the pages covering `mapped` (part of a file mapping) that are
// resident in RAM (mincore).
[[nodiscard]] std::uint64_t resident_bytes(std::span<const std::byte> mapped);

struct PageCacheRelease {
  std::uint64_t resident_before = 0;  // of the widened range
  std::uint64_t resident_after = 0;
  std::string problem;  // empty when both calls succeeded
};

// The largest folio the page cache keeps on x86-64: a release that covers
// only part of one leaves all of it resident.
inline constexpr std::uint64_t page_cache_folio_bytes = std::uint64_t{2} << 20;

// `range` (file offsets) widened to whole folios, clipped to the file's size.
[[nodiscard]] ByteRange folio_cover(ByteRange range, std::uint64_t file_size);

// Drops the file's pages of `range` (file offsets, taken as it is) from RAM:
// first this process's page-table entries for them (madvise MADV_DONTNEED
// on the mapping: it is private, read-only and never written, so a later
// access reads the same bytes from the file again), then the page cache
// (posix_fadvise POSIX_FADV_DONTNEED). Pages another process maps stay.
PageCacheRelease release_pages(const ReadOnlyFile& file, ByteRange range);

// release_pages over `range` widened to whole folios (folio_cover), so no
// large folio at either end stays behind; then stop_read_around(file).
PageCacheRelease release_page_cache(const ReadOnlyFile& file, ByteRange range);

// After a copying policy's final release the mapping is read only for the
// GGUF metadata (tensor names are views into it). A page fault there would
// read around the faulting page, a window of megabytes reaching past the
// metadata into the weights just released (6 MiB seen after touching a
// 2 MiB header on Linux 6.18), so the mapping is advised MADV_RANDOM: a fault
// reads its own page. Reads through pread are not affected.
void stop_read_around(const ReadOnlyFile& file);

// How the page cache holds a mapped range: in base pages or in large folios
// (compound pages). Registering page-cache memory held in large folios with
// cudaHostRegister hangs — never returns — on the lent H100 machine (Linux
// 6.18 with ext4 large folios, driver 580): any file written in large writes
// or read cold with readahead. Small folios register in milliseconds.
struct FolioScan {
  bool known = false;     // false: the flags could not be read (needs CAP_SYS_ADMIN)
  std::string unknown_reason;
  std::uint64_t pages = 0;              // pages of the range looked at
  std::uint64_t large_folio_pages = 0;  // of which part of a compound page
};

enum class FolioScanExtent : std::uint8_t {
  whole_range,        // count every large-folio page
  until_first_large,  // stop at the first stretch holding one (enough to refuse registering)
};

// Faults the pages of `mapped` in, stretch by stretch (reading one byte of
// each, so a cold file is read), and reads their page frames from
// /proc/self/pagemap and the frames' flags from /proc/kpageflags.
[[nodiscard]] FolioScan scan_folios(std::span<const std::byte> mapped,
                                    FolioScanExtent extent = FolioScanExtent::whole_range);

}  // namespace pagoda::mapping
