// DeviceCopy's constructor (see mapping/device_copy.hpp): allocate, fill at
// the link's speed, zero the gaps, let go of the page cache, report.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "pagoda/core/error.hpp"
#include "pagoda/core/stopwatch.hpp"
#include "pagoda/mapping/byte_text.hpp"
#include "pagoda/mapping/device_copy.hpp"
#include "pagoda/mapping/drop_behind.hpp"
#include "pagoda/mapping/page_cache.hpp"
#include "pagoda/kernels/repack_streams.cuh"
#include "pagoda/quant/field_streams.hpp"

namespace pagoda::mapping {

namespace {

using pagoda::check_cuda;

bool device_attribute(cudaDeviceAttr which, int device) {
  int value = 0;
  check_cuda(cudaDeviceGetAttribute(&value, which, device), "cudaDeviceGetAttribute", "DeviceCopy");
  return value != 0;
}

// Waits for a stream on every exit, so that an exception cannot free pinned
// buffers that queued copies still read.
class DrainOnExit {
public:
  explicit DrainOnExit(cudaStream_t stream) : stream_(stream) {}
  ~DrainOnExit() { cudaStreamSynchronize(stream_); }
  DrainOnExit(const DrainOnExit&) = delete;
  DrainOnExit& operator=(const DrainOnExit&) = delete;

private:
  cudaStream_t stream_;
};

// The registered path: one DMA straight out of the file's pages. Returns why
// it could not be used, or nullopt when the weights are on the device.
std::optional<std::string> fill_from_registered_mapping(const WeightSection& section, std::byte* device,
                                                        const pagoda::CudaStream& stream, int ordinal,
                                                        bool check_folios, PlacementReport& report) {
  if (!device_attribute(cudaDevAttrHostRegisterSupported, ordinal))
    return std::string("the device reports hostRegisterSupported=0");
  if (!device_attribute(cudaDevAttrHostRegisterReadOnlySupported, ordinal))
    return std::string("the device reports hostRegisterReadOnlySupported=0, and the mapping is read-only");
  if (check_folios) {
    const FolioScan folios = scan_folios(section.bytes(), FolioScanExtent::until_first_large);
    if (!folios.known)
      return "page-cache folio sizes cannot be checked (" + folios.unknown_reason +
             "), and registering large folios can hang";
    if (folios.large_folio_pages != 0)
      return "the page cache holds the file in large folios (" + std::to_string(folios.large_folio_pages) +
             " pages in the first " + std::to_string(folios.pages) + "), on which cudaHostRegister hangs";
  }
  const std::byte* const host = section.bytes().data();
  const ByteRange cover = page_cover({reinterpret_cast<std::uintptr_t>(host), section.size()},
                                     static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
  const Stopwatch registering;
  pagoda::HostRegistration registration;
  if (const cudaError_t status = registration.try_register(reinterpret_cast<const void*>(cover.offset),
                                                           cover.size, cudaHostRegisterReadOnly);
      status != cudaSuccess)
    return "cudaHostRegister(cudaHostRegisterReadOnly) of the file mapping failed: " +
           pagoda::cuda_error_text(status);
  report.register_seconds = registering.seconds();
  const Stopwatch copying;
  check_cuda(cudaMemcpyAsync(device, host, section.size(), cudaMemcpyHostToDevice, stream.get()),
             "cudaMemcpyAsync", "DeviceCopy: registered mapping of " + section.file_name() + " to VRAM");
  stream.synchronize("DeviceCopy: copy from the registered mapping");
  report.copy_seconds = copying.seconds();
  report.fill_path = "file mapping registered read-only, one cudaMemcpyAsync";
  return std::nullopt;  // the registration ends here, before the page cache is released
}

// memcpy on `threads` threads, in equal slices.
void parallel_copy(std::byte* destination, const std::byte* source, std::size_t bytes, unsigned threads) {
  constexpr std::size_t min_slice = std::size_t{1} << 20;
  const std::size_t slices = std::max<std::size_t>(1, std::min<std::size_t>(threads, bytes / min_slice));
  const std::size_t slice = (bytes + slices - 1) / slices;
  std::vector<std::jthread> workers;
  workers.reserve(slices - 1);
  for (std::size_t i = 1; i < slices; ++i) {
    const std::size_t at = i * slice;
    if (at < bytes) workers.emplace_back([=] { std::memcpy(destination + at, source + at, std::min(slice, bytes - at)); });
  }
  std::memcpy(destination, source, std::min(slice, bytes));
}

// The staged path: two pinned chunks, the CPU filling one while the DMA
// engine drains the other. Each chunk's pages of the file mapping are done
// with once it is in its buffer: `drop` (when given) lets go of them behind
// the copy.
void fill_through_staging(const WeightSection& section, std::byte* device, const pagoda::CudaStream& stream,
                          std::size_t chunk_bytes, unsigned copy_threads, DropBehind* drop,
                          PlacementReport& report) {
  const std::uint64_t size = section.size();
  const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(std::max<std::size_t>(chunk_bytes, 1), size));
  const std::string context = "DeviceCopy: staging " + section.file_name();
  const pagoda::PinnedBuffer buffers[2] = {pagoda::PinnedBuffer(chunk, context),
                                            pagoda::PinnedBuffer(chunk, context)};
  const pagoda::CudaEvent drained[2] = {pagoda::CudaEvent(context), pagoda::CudaEvent(context)};
  const DrainOnExit drain(stream.get());
  const Stopwatch copying;
  const std::byte* const host = section.bytes().data();
  for (std::uint64_t offset = 0, k = 0; offset < size; offset += chunk, ++k) {
    const std::size_t slot = k % 2;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, size - offset));
    drained[slot].synchronize(context);  // the copy that last read this buffer is done
    parallel_copy(buffers[slot].data(), host + offset, n, copy_threads);
    if (drop) drop->consumed(section.file_offset() + offset + n);
    check_cuda(cudaMemcpyAsync(device + offset, buffers[slot].data(), n, cudaMemcpyHostToDevice, stream.get()),
               "cudaMemcpyAsync", context);
    drained[slot].record(stream.get(), context);
  }
  stream.synchronize(context);
  report.copy_seconds = copying.seconds();
  report.staging_pinned_bytes = 2 * chunk;
  report.fill_path = "pinned double-buffered staging (2 x " + bytes_text(chunk) + ", " +
                     std::to_string(copy_threads) + " copy threads)";
}

}  // namespace

DeviceCopy::DeviceCopy(const gguf::MappedFile& file, const Options& options)
    : section_(file.gguf()), device_(options.device) {
  const Stopwatch total;
  const pagoda::ScopedDevice current(options.device);
  check_cuda(cudaFree(nullptr), "cudaFree(nullptr)", "DeviceCopy: creating the CUDA context");
  const pagoda::DeviceMemoryInfo before = pagoda::device_memory_info("DeviceCopy");
  report_.policy = id;
  report_.residence = residence;
  report_.where = "VRAM";
  report_.fill_path = "nothing to copy";
  report_.tensor_bytes = section_.tensor_bytes();
  report_.page_bytes = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));

  const Stopwatch allocating;
  weights_ = pagoda::DeviceBuffer(section_.size(), "DeviceCopy: weights of " + section_.file_name());
  report_.allocate_seconds = allocating.seconds();
  report_.vram_bytes = weights_.size();
  if (section_.size() != 0) {
    const mapping::ReadOnlyFile& source = file.mapping();
    ::posix_fadvise(source.fd(), static_cast<off_t>(section_.file_offset()), static_cast<off_t>(section_.size()),
                    POSIX_FADV_WILLNEED);  // read ahead while CUDA sets up
    const pagoda::CudaStream stream("DeviceCopy");
    // Started before the fill, so the staged path's pages go while it copies.
    std::optional<DropBehind> drop;
    if (options.release_page_cache) drop.emplace(source, section_.file_range());
    std::optional<std::string> not_registered = std::string("staging requested (DeviceCopyFill::staged)");
    if (options.fill != DeviceCopyFill::staged)
      not_registered = fill_from_registered_mapping(section_, weights_.data(), stream, options.device,
                                                    options.fill == DeviceCopyFill::automatic, report_);
    if (not_registered) {
      if (options.fill == DeviceCopyFill::registered)
        throw Error("DeviceCopy: the registered fill was required (DeviceCopyFill::registered) but " + *not_registered);
      if (options.fill == DeviceCopyFill::automatic)
        report_.fallbacks.push_back(
            "registered mapping not used: " + *not_registered + "; filled through pinned staging instead");
      fill_through_staging(section_, weights_.data(), stream, options.staging_chunk_bytes, options.copy_threads,
                           drop ? &*drop : nullptr, report_);
    }
    // The file's inter-tensor padding is whatever the file says; make it zero.
    for (const ByteRange& gap : section_.gaps())
      check_cuda(cudaMemsetAsync(weights_.data() + gap.offset, 0, gap.size, stream.get()), "cudaMemsetAsync",
                 "DeviceCopy: zeroing padding");
    stream.synchronize("DeviceCopy: zeroing padding");

    if (drop) {  // what the fill did not release behind it (all of it after a registered fill)
      const Stopwatch releasing;
      const std::uint64_t behind = drop->released_bytes();
      const PageCacheRelease released = drop->finish();
      record_page_cache_release(report_, released, releasing.seconds(),
                                bytes_text(behind) + " of it behind the copy");
    }
    report_.page_cache_bytes = resident_bytes(section_.bytes());
  }
  const pagoda::DeviceMemoryInfo after = pagoda::device_memory_info("DeviceCopy");
  report_.vram_delta_bytes =
      static_cast<std::int64_t>(before.free_bytes) - static_cast<std::int64_t>(after.free_bytes);
  report_.total_seconds = total.seconds();
}

void DeviceCopy::repack_to_field_streams(std::span<const gguf::TensorInfo* const> tensors) {
  if (tensors.empty()) return;
  const Stopwatch repacking;
  const pagoda::ScopedDevice current(device_);
  // One scratch chunk for every tensor: at most 64 MiB, at least one 8-row
  // group of the widest row.
  std::size_t widest_group = 0, largest = 0;
  for (const gguf::TensorInfo* t : tensors) {
    widest_group = std::max<std::size_t>(widest_group, quant::field_stream_group_rows * t->byte_size / t->rows());
    largest = std::max<std::size_t>(largest, t->byte_size);
  }
  const std::size_t scratch_bytes = std::max(widest_group, std::min<std::size_t>(largest, std::size_t{64} << 20));
  const pagoda::DeviceBuffer scratch(scratch_bytes, "DeviceCopy: repacking scratch");
  const pagoda::CudaStream stream("DeviceCopy: repacking");
  std::uint64_t bytes = 0;
  for (const gguf::TensorInfo* t : tensors) {
    std::byte* at = weights_.data() + section_.offset_of(*t);
    const bool known = quant::visit_field_stream_format(t->type, [&](auto tag) {
      using F = typename decltype(tag)::type;
      kernels::repack_streams<F>(at, t->rows(), t->dims[0], scratch.data(), scratch.size(), stream.get());
    });
    if (!known)
      throw Error("DeviceCopy: cannot repack " + std::string(t->name) + ": its format has no field-streams layout");
    bytes += t->byte_size;
  }
  stream.synchronize("DeviceCopy: repacking");
  report_.repack_seconds += repacking.seconds();
  report_.repacked_bytes += bytes;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f s", repacking.seconds());
  report_.notes.push_back("repacked " + std::to_string(tensors.size()) + " matrices (" + bytes_text(bytes) +
                          ") into field streams on the GPU in " + seconds + " through " + bytes_text(scratch_bytes) +
                          " of scratch");
}

}  // namespace pagoda::mapping
