// HugepageImport: the weights copied once out of the file into anonymous
// memory pagoda owns — hugetlb 1 GiB / 2 MiB pages where the system offers
// them, else transparent hugepages, each fallback reported — read with
// O_DIRECT where the filesystem allows (so the page cache keeps no second
// copy), padding between tensors zeroed while the memory is still writable,
// then sealed PROT_READ and registered (cudaHostRegisterReadOnly | Mapped):
// kernels read it zero-copy. One physical copy of the weights, on huge pages
// (the llama.cpp fork's +4% decode, +17.5 GiB free VRAM). The anonymous
// memory mirrors the file from the page holding the section's first byte,
// so tensors keep the file's alignment.
#pragma once

#include <array>

#include <cstddef>
#include <optional>
#include <span>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/anonymous_mapping.hpp"
#include "pagoda/mapping/file_reader.hpp"
#include "pagoda/mapping/placement_report.hpp"
#include "pagoda/mapping/policy_id.hpp"
#include "pagoda/quant/layout.hpp"
#include "pagoda/mapping/weight_section.hpp"
#include "pagoda/core/cuda_raii.hpp"

namespace pagoda::mapping {

struct HugepageImportOptions {
  int device = 0;
  AnonymousRequest memory;  // hugepage size, reservation, fallback to THP
  ReadOptions read;         // O_DIRECT or buffered, threads
  // Afterwards, drop the file's pages from RAM (left there by a buffered
  // read or an earlier reader).
  bool release_page_cache = true;
};

class HugepageImport : public HugepageImportFacts {
public:
  // The bytes are read from the file into pages it owns, so it could repack on the
  // host while reading; not yet measured worth it, so the file's layout.
  static constexpr std::array<quant::WeightLayout, 1> layouts{quant::WeightLayout::gguf_blocks};
  using Options = HugepageImportOptions;

  explicit HugepageImport(const gguf::MappedFile& file) : HugepageImport(file, Options{}) {}
  HugepageImport(const gguf::MappedFile& file, const Options& options);
  // Owns a placement: movable, never copied.
  HugepageImport(HugepageImport&&) noexcept = default;
  HugepageImport& operator=(HugepageImport&&) noexcept = default;
  HugepageImport(const HugepageImport&) = delete;
  HugepageImport& operator=(const HugepageImport&) = delete;

  [[nodiscard]] const std::byte* device_pointer(const gguf::TensorInfo& tensor) const {
    return device_section_ + section_.offset_of(tensor);
  }
  [[nodiscard]] PlacementReport report() const { return report_; }
  // The sealed host copy (for tests: it must equal the file's bytes).
  [[nodiscard]] std::span<const std::byte> host_section() const {
    return memory_ ? memory_->bytes().subspan(lead_bytes_) : std::span<const std::byte>{};
  }

private:
  WeightSection section_;
  std::size_t lead_bytes_ = 0;  // from the mapping's start to the section's first byte
  // Declared before registration_: unregistered first, unmapped after.
  std::optional<ReadOnlyAnonymousMapping> memory_;
  pagoda::HostRegistration registration_;
  const std::byte* device_section_ = nullptr;
  PlacementReport report_;
};

}  // namespace pagoda::mapping
