// probe_os: sysfs and procfs text into values, on a fake tree (every case)
// and on this machine (whatever it offers, the probe must not fail).
#include <doctest/doctest.h>

#include <fstream>

#include "mapping_fixtures.hpp"
#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/mapping/capability_presets.hpp"

using namespace pagoda::mapping;
using pagoda::mapping::testing::ScratchDir;

namespace {

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

void write_pool(const std::filesystem::path& root, const std::string& name, int total, int free, int reserved) {
  const auto dir = root / "sys/kernel/mm/hugepages" / name;
  write(dir / "nr_hugepages", std::to_string(total) + "\n");
  write(dir / "free_hugepages", std::to_string(free) + "\n");
  write(dir / "resv_hugepages", std::to_string(reserved) + "\n");
}

}  // namespace

TEST_CASE("the THP mode is the bracketed word of transparent_hugepage/enabled") {
  CHECK(parse_thp_mode("always [madvise] never\n") == ThpMode::madvise);
  CHECK(parse_thp_mode("[always] madvise never") == ThpMode::always);
  CHECK(parse_thp_mode("always madvise [never]") == ThpMode::never);
  CHECK(parse_thp_mode("always madvise never") == ThpMode::unavailable);
  CHECK(parse_thp_mode("") == ThpMode::unavailable);
  CHECK(name_of(ThpMode::madvise) == "madvise");
}

TEST_CASE("probe_os reads every hugetlb pool, the THP mode and the RAM of a sysfs/procfs tree") {
  ScratchDir root;
  write_pool(root.path(), "hugepages-1048576kB", 2, 1, 0);
  write_pool(root.path(), "hugepages-2048kB", 512, 300, 100);
  write(root.path() / "sys/kernel/mm/hugepages/not-a-pool/nr_hugepages", "9\n");
  write(root.path() / "sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
  write(root.path() / "proc/meminfo",
        "MemTotal:       131072000 kB\nMemFree:         1000 kB\nMemAvailable:   65536000 kB\n");

  const OsCapabilities os = probe_os(root.path());
  REQUIRE(os.hugepage_pools.size() == 2);
  CHECK(os.hugepage_pools[0].page_bytes == 2u << 20);  // ascending page size
  CHECK(os.hugepage_pools[0].total_pages == 512);
  CHECK(os.hugepage_pools[0].free_pages == 300);
  CHECK(os.hugepage_pools[0].reserved_pages == 100);
  CHECK(os.hugepage_pools[0].available_pages() == 200);  // reserved pages are promised already
  CHECK(os.hugepage_pools[0].available_bytes() == 200ull * (2u << 20));
  CHECK(os.hugepage_pools[0].reservable);  // the fake file is ours to write
  CHECK(os.hugepage_pools[1].page_bytes == 1ull << 30);
  CHECK(os.pool(1ull << 30) == &os.hugepage_pools[1]);
  CHECK(os.pool(64 << 10) == nullptr);
  CHECK(os.thp_mode == ThpMode::madvise);
  CHECK(os.total_ram_bytes == 131072000ull * 1024);
  CHECK(os.available_ram_bytes == 65536000ull * 1024);
  CHECK(os.page_bytes >= 4096);
  CHECK(describe(os).find("THP madvise") != std::string::npos);
}

TEST_CASE("a tree without hugetlb, THP or meminfo is a platform without them, not an error") {
  ScratchDir root;
  const OsCapabilities os = probe_os(root.path());
  CHECK(os.hugepage_pools.empty());
  CHECK(os.thp_mode == ThpMode::unavailable);
  CHECK(os.total_ram_bytes == 0);
  CHECK(describe(os).find("hugetlb pools: none") != std::string::npos);
}

TEST_CASE("probe_os on this machine gives a usable description") {
  const OsCapabilities os = probe_os();
  CHECK(os.page_bytes >= 4096);
  CHECK(os.total_ram_bytes > 0);
  CHECK(os.available_ram_bytes <= os.total_ram_bytes);
  for (const HugepagePool& pool : os.hugepage_pools) {
    CHECK(pool.page_bytes >= (2u << 20));
    CHECK(pool.free_pages <= pool.total_pages);
  }
  MESSAGE(describe(os));
}

TEST_CASE("a device description names the attributes selection depends on") {
  const std::string text = describe(presets::gb10_like().device);
  CHECK(text.find("NVIDIA GB10") != std::string::npos);
  CHECK(text.find("pageableMemoryAccess=1") != std::string::npos);
  CHECK(text.find("hostRegister=0") != std::string::npos);
  CHECK(describe(presets::no_device().device).find("no CUDA device") != std::string::npos);
}
