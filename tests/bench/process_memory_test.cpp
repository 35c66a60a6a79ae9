// Resident memory from /proc/<pid>/status, the "host resident" column.
#include <doctest/doctest.h>

#include "pagoda_bench/process_memory.hpp"

using namespace pagoda::bench;

TEST_CASE("VmRSS and its breakdown are read in kB and reported in bytes") {
  const auto memory = parse_proc_status(
      "Name:\tpagoda-bench\nVmPeak:\t 9000000 kB\nVmRSS:\t 5120000 kB\nRssAnon:\t  102400 kB\n"
      "RssFile:\t 5000000 kB\nRssShmem:\t   17600 kB\nThreads:\t8\n");
  REQUIRE(memory.has_value());
  CHECK(memory->rss_bytes == 5120000ull * 1024);
  CHECK(memory->rss_anon_bytes == 102400ull * 1024);
  CHECK(memory->rss_file_bytes == 5000000ull * 1024);
  CHECK(memory->rss_shmem_bytes == 17600ull * 1024);
}

TEST_CASE("without VmRSS there is nothing to report; a missing breakdown stays 0") {
  CHECK_FALSE(parse_proc_status("Name:\tx\nThreads:\t1\n").has_value());
  CHECK_FALSE(parse_proc_status("").has_value());
  CHECK_FALSE(parse_proc_status("VmRSS:\t12 MB\n").has_value());  // not the kernel's unit
  const auto bare = parse_proc_status("VmRSS:   42 kB");
  REQUIRE(bare.has_value());
  CHECK(bare->rss_bytes == 42 * 1024);
  CHECK(bare->rss_file_bytes == 0);
}

TEST_CASE("this process has a resident set") {
  const auto memory = resident_memory();
  REQUIRE(memory.has_value());
  CHECK(memory->rss_bytes > 0);
}
