// HmmDirect: kernels read the GGUF file's mapping directly — the device
// pointer of a tensor is its address in the mapping — which only works where
// the GPU can read pageable memory (pageableMemoryAccess = 1: HMM, or ATS
// over a coherent link as on GH200 / GB10). Elsewhere (the H100 machine) the
// constructor refuses, naming the attribute. The weights stay in the
// reclaimable page cache; cudaMemAdvise / cudaMemPrefetchAsync hints are
// applied where the platform takes them, and a hint it refuses is recorded
// in the report, never dropped silently. This is the path the brief's GB10
// engine had but never called. The file must outlive the policy.
#pragma once

#include <array>

#include <cstddef>
#include <optional>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/placement_report.hpp"
#include "pagoda/mapping/policy_id.hpp"
#include "pagoda/quant/layout.hpp"
#include "pagoda/mapping/weight_section.hpp"

namespace pagoda::mapping {

struct HmmDirectOptions {
  int device = 0;
  // cudaMemAdviseSetAccessedBy(device): map the pages for the GPU up front
  // rather than on first fault.
  bool accessed_by = true;
  // cudaMemAdviseSetReadMostly: lets the driver keep read-only copies near
  // the GPU — on a discrete GPU that is VRAM, i.e. a copy; off by default.
  bool read_mostly = false;
  // cudaMemPrefetchAsync to the device. nullopt: only on an integrated GPU,
  // where the device's memory is the host's and prefetching only populates
  // the GPU's page tables (on a discrete GPU it would migrate pages to VRAM).
  std::optional<bool> prefetch;
};

class HmmDirect : public HmmDirectFacts {
public:
  // Reads the file's own bytes in place (read-only): only their layout.
  static constexpr std::array<quant::WeightLayout, 1> layouts{quant::WeightLayout::gguf_blocks};
  using Options = HmmDirectOptions;

  explicit HmmDirect(const gguf::MappedFile& file) : HmmDirect(file, Options{}) {}
  HmmDirect(const gguf::MappedFile& file, const Options& options);
  // Owns a placement: movable, never copied.
  HmmDirect(HmmDirect&&) noexcept = default;
  HmmDirect& operator=(HmmDirect&&) noexcept = default;
  HmmDirect(const HmmDirect&) = delete;
  HmmDirect& operator=(const HmmDirect&) = delete;

  [[nodiscard]] const std::byte* device_pointer(const gguf::TensorInfo& tensor) const {
    return section_.bytes().data() + section_.offset_of(tensor);
  }
  [[nodiscard]] PlacementReport report() const { return report_; }

private:
  WeightSection section_;
  PlacementReport report_;
};

}  // namespace pagoda::mapping
