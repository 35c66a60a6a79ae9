// The process's resident memory, from /proc/self/status: what a policy keeps
// in host RAM after a load (the brief's peer keeps 4.9 GB of mmap'd weights
// resident besides the VRAM copy).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace pagoda::bench {

struct ResidentMemory {
  std::uint64_t rss_bytes = 0;        // VmRSS: all of it
  std::uint64_t rss_anon_bytes = 0;   // RssAnon: heap, anonymous (hugepage) copies
  std::uint64_t rss_file_bytes = 0;   // RssFile: file mappings, the GGUF's page cache among them
  std::uint64_t rss_shmem_bytes = 0;  // RssShmem
};

// Parses the text of /proc/<pid>/status ("VmRSS:\t  123 kB" lines); nullopt
// without a VmRSS line. Missing breakdown lines stay 0.
[[nodiscard]] std::optional<ResidentMemory> parse_proc_status(std::string_view text);

// This process now; nullopt where /proc is unreadable.
[[nodiscard]] std::optional<ResidentMemory> resident_memory();

}  // namespace pagoda::bench
