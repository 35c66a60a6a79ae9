// What a mapping policy did with the weights, as a value: where the bytes
// live, what it cost in VRAM and pinned host memory, how they got there and
// every fallback taken on the way, with its reason. Printed at load (one
// line) and checked by tests — the brief's 87 GB of silent device copies
// would have shown up here as vram_delta_bytes.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pagoda/mapping/page_cache.hpp"
#include "pagoda/mapping/policy_id.hpp"

namespace pagoda::mapping {

struct PlacementReport {
  PolicyId policy = PolicyId::device_copy;
  Residence residence = Residence::device;
  std::string where;      // "VRAM", "file mapping (page cache), registered read-only", ...
  std::string fill_path;  // how the bytes got there; "in place" for zero-copy policies
  std::uint64_t tensor_bytes = 0;           // sum of the tensors' byte sizes
  std::uint64_t vram_bytes = 0;             // device memory the policy allocated
  std::int64_t vram_delta_bytes = 0;        // cudaMemGetInfo free before construction minus after
  std::uint64_t host_registered_bytes = 0;  // host memory registered with CUDA (pinned) now
  std::uint64_t staging_pinned_bytes = 0;   // pinned staging used during the load, freed since
  std::uint64_t page_cache_bytes = 0;       // the file's weight bytes resident in RAM after load
  std::uint64_t hugepage_bytes = 0;         // weight bytes on huge pages (hugetlb or THP)
  std::uint64_t page_bytes = 0;             // page size backing the weights
  double allocate_seconds = 0;  // the policy's own memory: cudaMalloc, mmap, hugepage faults
  double register_seconds = 0;
  double read_seconds = 0;
  double copy_seconds = 0;
  double release_seconds = 0;   // what the load waited for dropping the file's page cache (after the fill)
  double total_seconds = 0;
  // The weight layouts (quant/layout.hpp): what each matrix became, and what
  // rearranging cost. One line per layout in the summary; every tensor named.
  double repack_seconds = 0;
  std::uint64_t repacked_bytes = 0;
  std::string layouts;                             // "field-streams: 224 matrices (4.21 GiB); gguf-blocks: ..."
  std::vector<std::pair<std::string, std::string>> tensor_layouts;  // (tensor name, layout name)
  // Which prefill product each layer matrix takes: "mma.sync 224 matrices; tile 0"
  // and, for the tile kernel, why (runtime::DeviceModel::prefill_kernels).
  std::string prefill_kernels;
  // How a one-token step runs and why (runtime::EngineCore::decode_path).
  std::string decode_path;
  std::vector<std::string> fallbacks;  // what was tried, why it did not apply, what was done instead
  std::vector<std::string> notes;      // hints applied, page cache released, ...
};

// One line: "device-copy: 4.33 GiB in VRAM via registered mmap -> cudaMemcpyAsync;
// VRAM 4.33 GiB (delta 4.35 GiB), ...; fallbacks: ...".
[[nodiscard]] std::string to_string(const PlacementReport& report);

// Records a release of the file's page cache: a note with what was resident
// before and after (and `detail`, when given), a fallback if a call failed,
// and the seconds the load waited for it.
void record_page_cache_release(PlacementReport& report, const PageCacheRelease& released, double seconds,
                               std::string_view detail = {});
std::ostream& operator<<(std::ostream& out, const PlacementReport& report);

}  // namespace pagoda::mapping
