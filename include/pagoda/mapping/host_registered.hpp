// HostRegistered: the weights stay in the GGUF file's read-only mapping (the
// page cache), registered with cudaHostRegisterReadOnly | Mapped so kernels
// read them zero-copy across the link (~50 GB/s on the H100's PCIe Gen5).
// Nothing is copied and nothing ever writes the mapping: a PROT_READ map can
// only be registered read-only, so a device without
// hostRegisterReadOnlySupported is refused, with that reason. Page cache held
// in large folios is refused too: cudaHostRegister never returns on it on the
// lent H100 (Linux 6.18, driver 580; see mapping/page_cache.hpp), so the
// folios are checked first where the process may read page flags (root).
// Unregistered on destruction. The file must outlive the policy.
#pragma once

#include <array>

#include <cstddef>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/placement_report.hpp"
#include "pagoda/mapping/policy_id.hpp"
#include "pagoda/quant/layout.hpp"
#include "pagoda/mapping/weight_section.hpp"
#include "pagoda/core/cuda_raii.hpp"

namespace pagoda::mapping {

struct HostRegisteredOptions {
  int device = 0;
  // Ask the kernel to read the file ahead (POSIX_FADV_WILLNEED) before
  // registration faults every page in.
  bool read_ahead = true;
  // Refuse when the page cache holds the file in large folios (see above).
  // Off: register regardless, at the risk of a hang.
  bool refuse_large_folios = true;
};

class HostRegistered : public HostRegisteredFacts {
public:
  // Reads the file's own bytes in place (read-only): only their layout.
  static constexpr std::array<quant::WeightLayout, 1> layouts{quant::WeightLayout::gguf_blocks};
  using Options = HostRegisteredOptions;

  explicit HostRegistered(const gguf::MappedFile& file) : HostRegistered(file, Options{}) {}
  HostRegistered(const gguf::MappedFile& file, const Options& options);
  // Owns a placement: movable, never copied.
  HostRegistered(HostRegistered&&) noexcept = default;
  HostRegistered& operator=(HostRegistered&&) noexcept = default;
  HostRegistered(const HostRegistered&) = delete;
  HostRegistered& operator=(const HostRegistered&) = delete;

  [[nodiscard]] const std::byte* device_pointer(const gguf::TensorInfo& tensor) const {
    return device_section_ + section_.offset_of(tensor);
  }
  [[nodiscard]] PlacementReport report() const { return report_; }

private:
  WeightSection section_;
  pagoda::HostRegistration registration_;  // the whole pages covering the section
  const std::byte* device_section_ = nullptr;
  PlacementReport report_;
};

}  // namespace pagoda::mapping
