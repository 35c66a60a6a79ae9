// DeviceCopy: every tensor in VRAM, in one cudaMalloc that mirrors the
// file's weight section (each tensor at its file offset, so at the file's
// alignment). Filled at the link's speed, never by pageable cudaMemcpy
// (~6 GB/s on the H100 against ~52 GB/s):
//  - from the file mapping registered read-only (cudaHostRegisterReadOnly),
//    one cudaMemcpyAsync — but only where the page cache is known to hold
//    the file in base pages: registering large folios never returns on the
//    lent H100 (see mapping/page_cache.hpp);
//  - otherwise through two pinned staging chunks: threads copy chunk k+1 out
//    of the mapping while the DMA engine moves chunk k.
// The path taken, and why, is in the report.
// Gaps between tensors are zeroed on the device. The file's pages are
// dropped from RAM (madvise + posix_fadvise DONTNEED) so the weights do not
// sit in host memory as well: behind the staged copy as it goes
// (mapping/drop_behind.hpp), after the registered one. The file must
// outlive the policy.
#pragma once

#include <array>
#include <span>

#include <cstddef>
#include <cstdint>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/placement_report.hpp"
#include "pagoda/mapping/policy_id.hpp"
#include "pagoda/quant/layout.hpp"
#include "pagoda/mapping/weight_section.hpp"
#include "pagoda/core/cuda_raii.hpp"

namespace pagoda::mapping {

enum class DeviceCopyFill : std::uint8_t {
  automatic,   // registered mapping where the device and the page cache allow it, else staging
  registered,  // registered mapping or an error (never staging); skips the folio check
  staged,      // pinned double-buffered staging only
};

struct DeviceCopyOptions {
  int device = 0;
  DeviceCopyFill fill = DeviceCopyFill::automatic;
  std::size_t staging_chunk_bytes = std::size_t{64} << 20;  // each of the two pinned chunks
  unsigned copy_threads = 8;  // CPU threads copying a chunk out of the mapping (8: 32 GB/s warm on the H100 host)
  bool release_page_cache = true;
};

class DeviceCopy : public DeviceCopyFacts {
public:
  // Owns its VRAM, so it can rearrange the bytes after the copy: field
  // streams first (the fast decode GEMVs), the file's layout when asked.
  static constexpr std::array<quant::WeightLayout, 2> layouts{quant::WeightLayout::field_streams,
                                                              quant::WeightLayout::gguf_blocks};
  using Options = DeviceCopyOptions;

  explicit DeviceCopy(const gguf::MappedFile& file) : DeviceCopy(file, Options{}) {}
  DeviceCopy(const gguf::MappedFile& file, const Options& options);
  // Owns a placement: movable, never copied.
  DeviceCopy(DeviceCopy&&) noexcept = default;
  DeviceCopy& operator=(DeviceCopy&&) noexcept = default;
  DeviceCopy(const DeviceCopy&) = delete;
  DeviceCopy& operator=(const DeviceCopy&) = delete;

  [[nodiscard]] const std::byte* device_pointer(const gguf::TensorInfo& tensor) const {
    return weights_.data() + section_.offset_of(tensor);
  }
  [[nodiscard]] PlacementReport report() const { return report_; }
  [[nodiscard]] int device() const { return device_; }

  // Rearranges these tensors (formats of quant::field_stream_formats, their
  // placed bytes 16-aligned) into field streams on the GPU, in place, through
  // one scratch chunk (kernels/repack_streams.cuh); records the time and bytes
  // in the report. Throws for a tensor it cannot repack.
  void repack_to_field_streams(std::span<const gguf::TensorInfo* const> tensors);

private:
  WeightSection section_;
  int device_;
  pagoda::DeviceBuffer weights_;  // (section_.size()) bytes, the section's layout
  PlacementReport report_;
};

}  // namespace pagoda::mapping
