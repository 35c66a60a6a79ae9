// AnonymousMapping: hugetlb, else THP, else base pages — every step down
// reported — and sealed memory that really is read-only.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

#include "mapping_fixtures.hpp"
#include "pagoda/mapping/anonymous_mapping.hpp"
#include "pagoda/mapping/capability_presets.hpp"

using namespace pagoda::mapping;
using pagoda::mapping::testing::ScratchDir;

namespace {

constexpr std::uint64_t mib = 1ull << 20;

// A platform whose hugetlb pools are empty and whose THP mode is `thp`.
OsCapabilities no_hugetlb_pages(ThpMode thp = ThpMode::madvise) {
  OsCapabilities os = presets::x86_host(16ull << 30);
  os.thp_mode = thp;
  return os;
}

bool contains(const std::vector<std::string>& lines, std::string_view word) {
  for (const std::string& line : lines)
    if (line.find(word) != std::string::npos) return true;
  return false;
}

// How a child process that writes one byte at `address` ends.
int child_write_status(std::byte* address) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGSEGV, SIG_DFL);  // not doctest's crash reporter: die of it
    *static_cast<volatile std::byte*>(address) = std::byte{0x5a};
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return status;
}

}  // namespace

TEST_CASE("without hugetlb pages the THP fallback is taken and reported") {
  const AnonymousMapping memory = AnonymousMapping::allocate(5 * mib + 3, {}, no_hugetlb_pages());
  CHECK(memory.backing() == PageBacking::transparent);
  CHECK(memory.page_bytes() == 2 * mib);
  CHECK(memory.bytes().size() == 5 * mib + 3);
  CHECK(memory.mapped_bytes().size() == 6 * mib);  // whole huge pages
  CHECK(reinterpret_cast<std::uintptr_t>(memory.bytes().data()) % (2 * mib) == 0);
  REQUIRE(memory.fallbacks().size() == 3);
  CHECK(memory.fallbacks()[0].find("hugetlb 1.00 GiB pages: 0 free, 1 needed") != std::string::npos);
  CHECK(memory.fallbacks()[1].find("hugetlb 2.00 MiB pages: 0 free, 3 needed") != std::string::npos);
  CHECK(memory.fallbacks()[2].find("transparent huge pages") != std::string::npos);
  CHECK(memory.description().find("transparent") != std::string::npos);
}

TEST_CASE("THP mode never gives base pages, reported") {
  const AnonymousMapping memory = AnonymousMapping::allocate(mib, {}, no_hugetlb_pages(ThpMode::never));
  CHECK(memory.backing() == PageBacking::base);
  CHECK(memory.huge_page_bytes() == 0);
  CHECK(contains(memory.fallbacks(), "THP is never"));
}

TEST_CASE("the memory is zero-filled and writable until sealed") {
  AnonymousMapping memory = AnonymousMapping::allocate(3 * mib, {}, no_hugetlb_pages());
  const std::span<std::byte> bytes = memory.mapped_bytes();
  CHECK(std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; }));
  std::memset(bytes.data(), 0x11, bytes.size());
  const std::uint64_t huge = memory.huge_page_bytes();
  CHECK(huge <= bytes.size());
  MESSAGE("THP backed " << huge << " of " << bytes.size() << " bytes after touching them");
  // Before sealing, a child's write is fine: the test below can tell the difference.
  const int status = child_write_status(bytes.data());
  CHECK(WIFEXITED(status));
}

TEST_CASE("sealed memory is PROT_READ: a write in a forked child dies with SIGSEGV") {
  AnonymousMapping memory = AnonymousMapping::allocate(2 * mib, {}, no_hugetlb_pages());
  std::memset(memory.bytes().data(), 0x42, memory.bytes().size());
  const ReadOnlyAnonymousMapping sealed = std::move(memory).seal();
  static_assert(std::is_same_v<decltype(sealed.bytes()), std::span<const std::byte>>,
                "a sealed mapping hands out const bytes only");
  CHECK(sealed.bytes()[12345] == std::byte{0x42});  // still readable
  const int status = child_write_status(const_cast<std::byte*>(sealed.bytes().data() + 4096));
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGSEGV);
  CHECK(sealed.bytes()[4096] == std::byte{0x42});
}

TEST_CASE("hugetlb refused and no fallback allowed is an error naming every attempt") {
  AnonymousRequest request;
  request.allow_fallback = false;
  CHECK_THROWS_WITH_AS((void)AnonymousMapping::allocate(mib, request, no_hugetlb_pages()),
                       doctest::Contains("hugetlb 2.00 MiB pages: 0 free"), pagoda::Error);
  request.hugepage_size = HugepageSize::gib_1;
  try {
    (void)AnonymousMapping::allocate(mib, request, no_hugetlb_pages());
    FAIL("expected an error");
  } catch (const pagoda::Error& e) {
    CHECK(std::string(e.what()).find("1.00 GiB") != std::string::npos);
    CHECK(std::string(e.what()).find("2.00 MiB") == std::string::npos);  // only the size asked for
  }
}

TEST_CASE("a pool that claims free pages the kernel cannot map is reported and skipped") {
  const OsCapabilities real = probe_os();
  const HugepagePool* real_pool = real.pool(2 * mib);
  if (real_pool == nullptr || real_pool->available_pages() >= 4) {
    MESSAGE("skipped: this machine has 2 MiB hugetlb pages (or no such pool)");
    return;
  }
  OsCapabilities claims = no_hugetlb_pages();
  claims.hugepage_pools[0].total_pages = claims.hugepage_pools[0].free_pages = 1000;
  AnonymousRequest request;
  request.hugepage_size = HugepageSize::mib_2;
  const AnonymousMapping memory = AnonymousMapping::allocate(4 * mib, request, claims);
  CHECK(memory.backing() == PageBacking::transparent);
  CHECK(contains(memory.fallbacks(), "mmap of 4.00 MiB failed"));
}

TEST_CASE("hugepage size none goes straight to THP, saying hugetlb was not requested") {
  AnonymousRequest request;
  request.hugepage_size = HugepageSize::none;
  request.allow_fallback = false;  // nothing to fall back from
  const AnonymousMapping memory = AnonymousMapping::allocate(mib, request, no_hugetlb_pages());
  CHECK(memory.backing() == PageBacking::transparent);
  REQUIRE(memory.fallbacks().size() == 1);
  CHECK(memory.fallbacks()[0].find("not requested") != std::string::npos);
}

TEST_CASE("hugepage sizes parse from the flag's words") {
  CHECK(parse_hugepage_size("auto") == HugepageSize::automatic);
  CHECK(parse_hugepage_size("1g") == HugepageSize::gib_1);
  CHECK(parse_hugepage_size("2m") == HugepageSize::mib_2);
  CHECK(parse_hugepage_size("none") == HugepageSize::none);
  CHECK_THROWS_AS((void)parse_hugepage_size("4k"), pagoda::Error);
  CHECK(name_of(HugepageSize::gib_1) == "1g");
}

TEST_CASE("reserving hugepages is tried only when asked, and a failed reservation restores the pool") {
  ScratchDir root;
  const auto pool = root.path() / "sys/kernel/mm/hugepages/hugepages-2048kB";
  std::filesystem::create_directories(pool);
  std::ofstream(pool / "nr_hugepages") << "7\n";
  std::ofstream(pool / "free_hugepages") << "0\n";  // a fake tree: the kernel never adds pages

  std::string why_not;
  CHECK_FALSE(HugepageReservation::try_reserve(root.path(), 2 * mib, 3, why_not));
  CHECK(why_not.find("got 0 free") != std::string::npos);
  std::uint64_t restored = 0;
  std::ifstream(pool / "nr_hugepages") >> restored;
  CHECK(restored == 7);

  AnonymousRequest request;
  request.hugepage_size = HugepageSize::mib_2;
  request.reserve_hugepages = true;
  request.sysfs_root = root.path();
  OsCapabilities os = no_hugetlb_pages();
  os.hugepage_pools[0].reservable = true;
  const AnonymousMapping memory = AnonymousMapping::allocate(mib, request, os);
  CHECK(contains(memory.fallbacks(), "reserving 1 pages failed"));
  CHECK(memory.backing() == PageBacking::transparent);
}
