// read_file_range: O_DIRECT (or the reported buffered fallback) reproduces
// the file byte for byte, whatever the chunking and thread count.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "mapping_fixtures.hpp"
#include "pagoda/mapping/anonymous_mapping.hpp"
#include "pagoda/mapping/capability_presets.hpp"
#include "pagoda/mapping/file_reader.hpp"

using namespace pagoda::mapping;
using pagoda::mapping::testing::ScratchDir;

namespace {

std::vector<std::byte> pattern(std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i * 131 + i / 4096) % 251);
  return bytes;
}

struct TestFile {
  ScratchDir dir;
  std::filesystem::path path = dir.path() / "data.bin";
  std::vector<std::byte> bytes;
  int fd = -1;

  explicit TestFile(std::size_t size) : bytes(pattern(size)) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    testing::sync_file(path);
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
  }
  ~TestFile() { ::close(fd); }
};

// Page-aligned destination memory.
AnonymousMapping destination(std::size_t size) {
  OsCapabilities os = presets::x86_host(1ull << 34);
  os.thp_mode = ThpMode::never;
  AnonymousRequest request;
  request.hugepage_size = HugepageSize::none;
  return AnonymousMapping::allocate(size, request, os);
}

bool same(std::span<const std::byte> a, std::span<const std::byte> b) { return std::ranges::equal(a, b); }

}  // namespace

TEST_CASE("an O_DIRECT read reproduces the file byte for byte, or says why it could not be direct") {
  const TestFile file((3u << 20) + 1234);  // the last block is partial
  const std::size_t offset = 8192;
  AnonymousMapping memory = destination(file.bytes.size() - offset);
  const ReadReport report = read_file_range(file.fd, "data.bin", offset, memory.bytes());
  CHECK(same(memory.bytes(), std::span(file.bytes).subspan(offset)));
  CHECK(report.bytes == file.bytes.size() - offset);
  CHECK((report.direct || !report.fallback.empty()));
  MESSAGE((report.direct ? std::string("O_DIRECT used") : "buffered: " + report.fallback));
}

TEST_CASE("many small chunks on several threads give the same bytes") {
  const TestFile file((5u << 20) + 4096 * 3);
  AnonymousMapping memory = destination(file.bytes.size());
  ReadOptions options;
  options.chunk_bytes = 64 << 10;
  options.threads = 7;
  (void)read_file_range(file.fd, "data.bin", 0, memory.bytes(), options);
  CHECK(same(memory.bytes(), file.bytes));
  options.threads = 1;
  options.chunk_bytes = 1;  // rounds up to one block
  AnonymousMapping again = destination(40000);
  (void)read_file_range(file.fd, "data.bin", 4096, again.bytes(), options);
  CHECK(same(again.bytes(), std::span(file.bytes).subspan(4096, 40000)));
}

TEST_CASE("buffered mode reads the same bytes and reports no fallback") {
  const TestFile file(1u << 20);
  AnonymousMapping memory = destination(file.bytes.size() - 100);
  ReadOptions options;
  options.mode = ReadMode::buffered;
  const ReadReport report = read_file_range(file.fd, "data.bin", 100, memory.bytes(), options);
  CHECK_FALSE(report.direct);
  CHECK(report.fallback.empty());
  CHECK(same(memory.bytes(), std::span(file.bytes).subspan(100)));
}

TEST_CASE("an unaligned offset falls back to buffered reads, with the reason") {
  const TestFile file(1u << 20);
  AnonymousMapping memory = destination(5000);
  const ReadReport report = read_file_range(file.fd, "data.bin", 100, memory.bytes());
  CHECK_FALSE(report.direct);
  CHECK(report.fallback.find("aligned") != std::string::npos);
  CHECK(same(memory.bytes(), std::span(file.bytes).subspan(100, 5000)));
}

TEST_CASE("a range past the end of the file is an error naming the file") {
  const TestFile file(10000);
  AnonymousMapping memory = destination(20000);
  CHECK_THROWS_WITH_AS((void)read_file_range(file.fd, "data.bin", 0, memory.bytes()),
                       doctest::Contains("data.bin: the file ends at byte"), pagoda::Error);
  ReadOptions buffered;
  buffered.mode = ReadMode::buffered;
  CHECK_THROWS_WITH_AS((void)read_file_range(file.fd, "data.bin", 0, memory.bytes(), buffered),
                       doctest::Contains("ends at byte 10000"), pagoda::Error);
}
