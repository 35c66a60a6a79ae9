// Releasing a file's page cache behind a reader that walks it in order
// (DeviceCopy's staged fill), on a thread of its own.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <numeric>
#include <thread>
#include <vector>

#include "mapping_fixtures.hpp"
#include "pagoda/mapping/drop_behind.hpp"
#include "pagoda/mapping/page_cache.hpp"
#include "pagoda/mapping/read_only_file.hpp"

using namespace pagoda::mapping;
using pagoda::mapping::testing::ScratchDir;

namespace {

constexpr std::uint64_t MiB = std::uint64_t{1} << 20;
static_assert(page_cache_folio_bytes == 2 * MiB);

// A synced file of `size` counting bytes, mapped and read once so every page
// is in the page cache.
struct WarmFile {
  ScratchDir dir;
  std::vector<char> bytes;
  ReadOnlyFile file;

  explicit WarmFile(std::size_t size) : bytes(make_bytes(size)), file(write(dir.path() / "weights.bin", bytes)) {
    unsigned sum = 0;
    for (std::size_t i = 5; i < size; i += 4096) sum += static_cast<unsigned>(file.bytes()[i]);
    REQUIRE(sum > 0);
    REQUIRE(resident_bytes(file.bytes()) >= size);
  }

  static std::vector<char> make_bytes(std::size_t size) {
    std::vector<char> bytes(size);
    std::iota(bytes.begin(), bytes.end(), 1);
    return bytes;
  }
  static std::filesystem::path write(const std::filesystem::path& path, const std::vector<char>& bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    testing::sync_file(path);
    return path;
  }
  [[nodiscard]] std::uint64_t resident(std::uint64_t offset, std::uint64_t size) const {
    return resident_bytes(file.bytes().subspan(offset, size));
  }
};

// Waits (at most 10 s) until the drop has released `bytes` behind the reader.
bool released_within_10s(const DropBehind& drop, std::uint64_t bytes) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (drop.released_bytes() < bytes) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace

TEST_CASE("whole folios behind the reader are released while it reads; the rest stays until finish") {
  WarmFile warm(16 * MiB);
  DropBehind drop(warm.file, {0, 16 * MiB});

  drop.consumed(5 * MiB + 123);  // in the third folio: only the first two are wholly behind
  REQUIRE(released_within_10s(drop, 4 * MiB));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // nothing more is to come
  CHECK(drop.released_bytes() == 4 * MiB);
  CHECK(warm.resident(0, 4 * MiB) == 0);
  CHECK(warm.resident(4 * MiB, 12 * MiB) == 12 * MiB);  // what the reader has yet to read is still cached

  drop.consumed(3 * MiB);  // backwards: ignored
  drop.consumed(12 * MiB);
  REQUIRE(released_within_10s(drop, 12 * MiB));
  CHECK(warm.resident(0, 12 * MiB) == 0);
  CHECK(warm.resident(12 * MiB, 4 * MiB) == 4 * MiB);

  const PageCacheRelease released = drop.finish();
  CHECK(released.problem.empty());
  CHECK(released.resident_before == 16 * MiB);  // each piece was resident when its turn came
  CHECK(released.resident_after == 0);
  CHECK(warm.resident(0, 16 * MiB) == 0);
  // The mapping still reads the file's bytes (from disk again).
  CHECK(std::ranges::equal(warm.file.bytes().subspan(3 * MiB, 100000),
                           std::as_bytes(std::span(warm.bytes)).subspan(3 * MiB, 100000)));
}

TEST_CASE("finish without a reader releases the range widened to whole folios, as release_page_cache does") {
  WarmFile warm(9 * MiB + 777);  // the file ends inside a folio
  DropBehind drop(warm.file, {3 * MiB + 10, 4 * MiB});  // widened to [2 MiB, 8 MiB)
  const PageCacheRelease released = drop.finish();
  CHECK(released.problem.empty());
  CHECK(released.resident_before == 6 * MiB);
  CHECK(released.resident_after == 0);
  CHECK(drop.released_bytes() == 6 * MiB);
  CHECK(warm.resident(0, 2 * MiB) == 2 * MiB);
  CHECK(warm.resident(2 * MiB, 6 * MiB) == 0);
  CHECK(warm.resident(8 * MiB, MiB + 777) >= MiB + 777);

  drop.consumed(9 * MiB);  // after finish: nothing happens
  CHECK(drop.finish().resident_after == 0);
}

TEST_CASE("a range reaching the end of the file releases its last partial folio at finish") {
  WarmFile warm(5 * MiB + 4097);
  DropBehind drop(warm.file, {MiB, 4 * MiB + 4097});
  drop.consumed(5 * MiB + 4097);
  REQUIRE(released_within_10s(drop, 4 * MiB));  // [0, 4 MiB): whole folios behind the reader
  const PageCacheRelease released = drop.finish();
  CHECK(released.problem.empty());
  CHECK(released.resident_after == 0);
  CHECK(warm.resident(0, 5 * MiB + 4097) == 0);
}

TEST_CASE("dropped without finish, the thread stops and the pages not yet released stay") {
  WarmFile warm(8 * MiB);
  {
    DropBehind drop(warm.file, {0, 8 * MiB});
    drop.consumed(2 * MiB);
    REQUIRE(released_within_10s(drop, 2 * MiB));
  }
  CHECK(warm.resident(0, 2 * MiB) == 0);
  CHECK(warm.resident(2 * MiB, 6 * MiB) == 6 * MiB);
}

TEST_CASE("an empty range releases nothing") {
  WarmFile warm(MiB);
  DropBehind drop(warm.file, {});
  drop.consumed(MiB);
  const PageCacheRelease released = drop.finish();
  CHECK(released.resident_before == 0);
  CHECK(released.resident_after == 0);
  CHECK(warm.resident(0, MiB) == MiB);
}
