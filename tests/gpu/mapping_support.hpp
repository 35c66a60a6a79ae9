// Shared by the mapping policy GPU tests: a test model mapped PROT_READ with
// its host-dequantized reference, dequantization of every tensor on the GPU
// through a policy's device pointers, and what the probe says each policy
// should do on this device.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

#include "mapping/mapping_fixtures.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/kernels/dequantize.cuh"
#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/mapping/page_cache.hpp"
#include "pagoda/mapping/policy_list.hpp"
#include "pagoda/mapping/selection.hpp"
#include "pagoda/quant/dequantize.hpp"
#include "pagoda/quant/format_list.hpp"
#include "pagoda/core/cuda_raii.hpp"

namespace pagoda::mapping::gpu_testing {

// How the test file's bytes sit in the page cache when it is mapped.
enum class PageCache : std::uint8_t {
  as_written,  // gguf::Writer's large writes: large folios on kernels that have them
  base_pages,  // dropped and faulted back in without readahead: what cudaHostRegister accepts
};

// Drops the file's pages, then faults every page back in with readahead
// off (MADV_RANDOM): the page cache then holds the file in base pages.
// Returns what the folio scan sees afterwards.
inline FolioScan load_in_base_pages(const gguf::MappedFile& file) {
  const std::span<const std::byte> bytes = file.mapping().bytes();
  (void)release_page_cache(file.mapping(), {0, bytes.size()});
  auto* const base = const_cast<std::byte*>(bytes.data());  // for madvise only: nothing is written
  ::madvise(base, bytes.size(), MADV_RANDOM);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  unsigned sum = 0;
  for (std::size_t i = 0; i < bytes.size(); i += page)
    sum += static_cast<unsigned>(static_cast<const volatile std::byte&>(bytes[i]));
  (void)sum;
  ::madvise(base, bytes.size(), MADV_NORMAL);
  return scan_folios(bytes);
}

// A test model on disk, mapped read-only, with every tensor dequantized on the host.
struct MappedTestModel {
  testing::ScratchDir dir;
  std::unique_ptr<gguf::MappedFile> file;
  std::vector<std::vector<float>> reference;  // per tensor, file order
  std::vector<std::byte> file_bytes_at_start; // to prove nothing wrote the file mapping

  explicit MappedTestModel(PageCache cache = PageCache::base_pages,
                           const testing::TestModelShape& shape = {.alignment = 32, .big_f32_elements = 3'000'001}) {
    file = gguf::MappedFile::open(testing::write_test_model(dir.path() / "model.gguf", shape));
    if (cache == PageCache::base_pages) {
      const FolioScan scan = load_in_base_pages(*file);
      if (!scan.known || scan.large_folio_pages != 0)
        std::cout << "warning: the test file is not in base pages (" << scan.large_folio_pages
                  << " large-folio pages" << (scan.known ? "" : "; unknown: " + scan.unknown_reason) << ")\n";
    }
    const auto all = file->mapping().bytes();
    file_bytes_at_start.assign(all.begin(), all.end());
    for (const gguf::TensorInfo& tensor : file->gguf().tensors()) {
      std::vector<float> values(tensor.element_count);
      quant::dequantize_row(tensor.type, tensor.bytes, values);
      reference.push_back(std::move(values));
    }
  }
  [[nodiscard]] std::uint64_t tensor_bytes() const { return WeightSection(file->gguf()).tensor_bytes(); }
};

// Default options, except that DeviceCopy leaves the page cache alone: the
// next policy under test then finds the file still in base pages (re-read
// cold, readahead would bring it back in large folios, which HostRegistered
// refuses).
template <class P>
typename P::Options test_options() {
  typename P::Options options{};
  if constexpr (std::is_same_v<P, DeviceCopy>) options.release_page_cache = false;
  return options;
}

// Every tensor dequantized by kernels::dequantize<F> reading straight through
// policy.device_pointer(tensor); output poisoned with NaN bits beforehand.
template <class Policy>
std::vector<std::vector<float>> dequantize_through(const Policy& policy, const gguf::File& file) {
  std::size_t largest = 0;
  for (const auto& t : file.tensors()) largest = std::max<std::size_t>(largest, t.element_count);
  const pagoda::DeviceBuffer out(largest * sizeof(float), "dequantize_through");
  const pagoda::CudaStream stream("dequantize_through");
  std::vector<std::vector<float>> results;
  for (const gguf::TensorInfo& tensor : file.tensors()) {
    const std::byte* source = policy.device_pointer(tensor);
    pagoda::check_cuda(cudaMemsetAsync(out.data(), 0xff, tensor.element_count * sizeof(float), stream.get()),
                        "cudaMemsetAsync");
    quant::visit_format(tensor.type, [&](auto tag) {
      using F = typename decltype(tag)::type;
      kernels::dequantize<F>(source, reinterpret_cast<float*>(out.data()), tensor.element_count, stream.get());
    });
    std::vector<float> values(tensor.element_count);
    pagoda::check_cuda(cudaMemcpyAsync(values.data(), out.data(), values.size() * sizeof(float),
                                        cudaMemcpyDeviceToHost, stream.get()),
                        "cudaMemcpyAsync");
    stream.synchronize("dequantize_through");
    results.push_back(std::move(values));
  }
  return results;
}

// The bytes behind policy.device_pointer(tensor), copied back by the copy engine.
template <class Policy>
std::vector<std::byte> bytes_through(const Policy& policy, const gguf::TensorInfo& tensor) {
  std::vector<std::byte> bytes(tensor.byte_size);
  pagoda::check_cuda(cudaMemcpy(bytes.data(), policy.device_pointer(tensor), bytes.size(), cudaMemcpyDefault),
                      "cudaMemcpy", std::string(tensor.name));
  return bytes;
}

inline bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// What the probe and selection say about policy `id` for a model this small:
// the policy constructor must agree.
inline Feasibility expected_feasibility(PolicyId id, const Capabilities& caps, std::uint64_t model_bytes) {
  SelectionAssumptions no_headroom;
  no_headroom.vram_headroom_bytes = 0;
  return assess(id, caps, model_bytes, 0, no_headroom);
}

inline std::int64_t free_vram() {
  return static_cast<std::int64_t>(pagoda::device_memory_info("test").free_bytes);
}

constexpr std::int64_t mib = 1 << 20;

}  // namespace pagoda::mapping::gpu_testing
