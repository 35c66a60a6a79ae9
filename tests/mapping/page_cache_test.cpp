// Residency of a file mapping in RAM, and letting go of it after a load.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <vector>

#include "mapping_fixtures.hpp"
#include "pagoda/mapping/page_cache.hpp"
#include "pagoda/mapping/read_only_file.hpp"

using namespace pagoda::mapping;
using pagoda::mapping::testing::ScratchDir;

TEST_CASE("releasing the page cache of a read mapping drops its resident pages and keeps its bytes") {
  ScratchDir dir;
  const auto path = dir.path() / "weights.bin";
  std::vector<char> bytes(8u << 20);
  std::iota(bytes.begin(), bytes.end(), 0);
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  testing::sync_file(path);

  const ReadOnlyFile file(path);
  const std::span<const std::byte> mapped = file.bytes().subspan(4096);
  unsigned sum = 0;
  for (std::size_t i = 7; i < mapped.size(); i += 4096) sum += static_cast<unsigned>(mapped[i]);
  CHECK(sum > 0);
  const std::uint64_t before = resident_bytes(mapped);
  CHECK(before >= mapped.size());

  const PageCacheRelease released = release_page_cache(file, {4096, mapped.size()});
  CHECK(released.problem.empty());
  CHECK(released.resident_before >= before);  // widened to whole folios
  CHECK(released.resident_after == 0);
  CHECK(resident_bytes(mapped) == 0);
  // The mapping still reads the file's bytes (from disk again).
  CHECK(std::ranges::equal(mapped.first(100000),
                           std::as_bytes(std::span(bytes)).subspan(4096, 100000)));
}

TEST_CASE("after a release, reading the metadata before the weights brings no weight page back") {
  // A "header" of 2 MiB + 64 KiB and 30 MiB of "weights" after it, as in a
  // GGUF file: the release, widened to whole 2 MiB folios, takes the
  // header's last 64 KiB too, so reading the metadata faults there.
  ScratchDir dir;
  const auto path = dir.path() / "model.bin";
  constexpr std::size_t header = (2u << 20) + (64u << 10), total = 32u << 20;
  std::vector<char> bytes(total, 5);
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  testing::sync_file(path);

  const ReadOnlyFile file(path);
  const std::span<const std::byte> weights = file.bytes().subspan(header);
  const PageCacheRelease released = release_page_cache(file, {header, weights.size()});
  CHECK(released.resident_after == 0);
  unsigned sum = 0;
  for (std::size_t i = 0; i < header; i += 4096) sum += static_cast<unsigned>(file.bytes()[i]);  // the metadata
  CHECK(sum == 5u * (header / 4096));
  CHECK(resident_bytes(weights) == 0);  // no read-around into the weights
}

TEST_CASE("an empty range is resident nowhere and releases nothing") {
  CHECK(resident_bytes({}) == 0);
}

namespace {

// A file of `size` bytes written in `write_size` pieces, synced to disk.
std::filesystem::path write_in_pieces(const std::filesystem::path& path, std::size_t size, std::size_t write_size) {
  std::vector<char> piece(write_size, 3);
  {
    std::ofstream out(path, std::ios::binary);
    out.rdbuf()->pubsetbuf(nullptr, 0);  // each write() reaches the kernel as it is
    for (std::size_t done = 0; done < size; done += write_size)
      out.write(piece.data(), static_cast<std::streamsize>(std::min(write_size, size - done)));
  }
  testing::sync_file(path);
  return path;
}

}  // namespace

TEST_CASE("the folio scan tells base pages from large folios in the page cache") {
  ScratchDir dir;
  const std::size_t size = 8u << 20;
  const ReadOnlyFile small(write_in_pieces(dir.path() / "small.bin", size, 4096));
  const ReadOnlyFile large(write_in_pieces(dir.path() / "large.bin", size, 4u << 20));
  const FolioScan small_scan = scan_folios(small.bytes());
  const FolioScan large_scan = scan_folios(large.bytes());
  CHECK(small_scan.pages == size / 4096);
  if (!small_scan.known) {
    MESSAGE("folio sizes not readable here: " << small_scan.unknown_reason);
    CHECK_FALSE(small_scan.unknown_reason.empty());
    return;
  }
  CHECK(small_scan.large_folio_pages == 0);  // 4 KiB writes make base pages
  CHECK(large_scan.known);
  CHECK(large_scan.large_folio_pages <= large_scan.pages);
  const FolioScan first = scan_folios(large.bytes(), FolioScanExtent::until_first_large);
  CHECK(first.known);
  CHECK((first.large_folio_pages > 0) == (large_scan.large_folio_pages > 0));
  CHECK(scan_folios(small.bytes(), FolioScanExtent::until_first_large).pages == size / 4096);  // none: all looked at
  MESSAGE("4 MiB writes: " << large_scan.large_folio_pages << " of " << large_scan.pages
                           << " pages in large folios (0 on a kernel without large page-cache folios)");
}
