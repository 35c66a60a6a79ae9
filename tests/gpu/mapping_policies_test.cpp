// Every mapping policy on this GPU: a model mapped PROT_READ is loaded under
// each policy the device supports (and refused, with the probe's reason, by
// each it does not), every tensor is dequantized on the GPU through the
// policy's device pointers and compared bit for bit with the host decoder,
// and the placement report's numbers are checked against cudaMemGetInfo.
// A write through the read-only file mapping would kill this process.
#include <doctest/doctest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <string>

#include "mapping_support.hpp"
#include "support/skip.hpp"

using namespace pagoda;
using namespace pagoda::mapping;
using namespace pagoda::mapping::gpu_testing;

namespace {

// Loads `model` under P (or checks that P's refusal is the expected one),
// then checks the device view against the host reference. Returns the
// dequantized tensors, or nullopt when P cannot work on this device.
template <class P>
std::optional<std::vector<std::vector<float>>> load_and_check(const MappedTestModel& model,
                                                             const typename P::Options& options,
                                                             const Capabilities& caps) {
  const Feasibility expected = expected_feasibility(P::id, caps, model.tensor_bytes());
  const std::int64_t free_before = free_vram();
  std::optional<P> policy;
  try {
    policy.emplace(*model.file, options);
  } catch (const Error& refusal) {
    MESSAGE((std::string(name_of(P::id)) + " refused: " + refusal.what()));
    // Large page-cache folios are a run-time fact the static probe cannot see.
    const bool folio_refusal = std::string(refusal.what()).find("large folios") != std::string::npos;
    CHECK_MESSAGE((!expected.possible || folio_refusal),
                  name_of(P::id) << " refused although the probe says it can work: " << expected.reason);
    CHECK(free_vram() >= free_before - 2 * mib);  // a refusal leaves nothing behind
    return std::nullopt;
  }
  CHECK_MESSAGE(expected.possible, name_of(P::id) << " worked although the probe says: " << expected.reason);
  const PlacementReport report = policy->report();
  std::cout << "  " << report << "\n";

  CHECK(report.policy == P::id);
  CHECK(report.residence == P::residence);
  CHECK(report.tensor_bytes == model.tensor_bytes());
  if constexpr (P::residence == Residence::device) {
    CHECK(report.vram_bytes >= report.tensor_bytes);
    CHECK(report.vram_delta_bytes >= static_cast<std::int64_t>(report.tensor_bytes));
    // Within 5% of the tensor bytes, plus the allocator's 2 MiB granularity.
    CHECK(report.vram_delta_bytes <= static_cast<std::int64_t>(report.tensor_bytes * 105 / 100) + 2 * mib);
    CHECK(report.host_registered_bytes == 0);
  } else {
    // The brief's 87 GB of silent copies: a host-resident policy uses no VRAM for weights.
    CHECK(report.vram_bytes == 0);
    CHECK(report.vram_delta_bytes < 64 * mib);
    if (P::id != PolicyId::hmm_direct) CHECK(report.host_registered_bytes >= report.tensor_bytes);
  }

  const auto& tensors = model.file->gguf().tensors();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    CAPTURE(tensors[i].name);
    CHECK(bytes_through(*policy, tensors[i]) == std::vector<std::byte>(tensors[i].bytes.begin(), tensors[i].bytes.end()));
  }
  auto values = dequantize_through(*policy, model.file->gguf());
  REQUIRE(values.size() == model.reference.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    CAPTURE(tensors[i].name);
    CHECK(bitwise_equal(values[i], model.reference[i]));
  }
  return values;
}

}  // namespace

TEST_CASE("every policy the device supports gives the host decoder's values bit for bit, the same under each") {
  const MappedTestModel model;
  const Capabilities caps = probe();
  MESSAGE(describe(caps.device));
  std::map<std::string, std::vector<std::vector<float>>> by_policy;
  for_each_type(policies{}, [&](auto tag) {
    using P = typename decltype(tag)::type;
    std::cout << name_of(P::id) << ":\n";
    if (auto values = load_and_check<P>(model, test_options<P>(), caps))
      by_policy.emplace(std::string(name_of(P::id)), std::move(*values));
  });
  REQUIRE(by_policy.contains("device-copy"));
  for (const auto& [name, values] : by_policy) {
    CAPTURE(name);
    for (std::size_t i = 0; i < values.size(); ++i) CHECK(bitwise_equal(values[i], by_policy.at("device-copy")[i]));
  }
  // Nothing wrote through the PROT_READ mapping (it would have crashed) and the file's bytes are unchanged.
  CHECK(std::ranges::equal(model.file->mapping().bytes(), model.file_bytes_at_start));
}

TEST_CASE("HmmDirect refuses clearly where pageableMemoryAccess is 0, as on the H100") {
  const MappedTestModel model(PageCache::base_pages, {.alignment = 32});
  const DeviceCapabilities device = probe_device(0);
  if (device.pageable_memory_access) {
    MESSAGE("this device has pageableMemoryAccess=1: HmmDirect is expected to work here");
    CHECK_NOTHROW(HmmDirect{*model.file});
    return;
  }
  CHECK_THROWS_WITH_AS(HmmDirect{*model.file}, doctest::Contains("pageableMemoryAccess=0"), Error);
}

TEST_CASE("DeviceCopy fills through pinned double-buffered staging when told to, with the same bytes") {
  const MappedTestModel model;
  DeviceCopyOptions options;
  options.fill = DeviceCopyFill::staged;
  options.staging_chunk_bytes = 1 << 20;  // the 12 MiB tensor crosses many chunks
  const auto values = load_and_check<DeviceCopy>(model, options, probe());
  REQUIRE(values);
  const DeviceCopy policy(*model.file, options);
  const PlacementReport report = policy.report();
  CHECK(report.fill_path.find("staging") != std::string::npos);
  CHECK(report.staging_pinned_bytes == 2u << 20);
  CHECK(report.fallbacks.empty());  // asked for, so not a fallback
}

TEST_CASE("DeviceCopy's staged fill lets go of the file's page cache behind the copy, and none is left after") {
  const MappedTestModel model;
  DeviceCopyOptions options;
  options.fill = DeviceCopyFill::staged;
  options.staging_chunk_bytes = 1 << 20;
  const DeviceCopy policy(*model.file, options);
  const PlacementReport report = policy.report();
  std::cout << "  " << report << "\n";
  const auto note = std::ranges::find_if(report.notes, [](const std::string& n) { return n.starts_with("page cache released"); });
  REQUIRE(note != report.notes.end());
  CHECK(note->find("behind the copy") != std::string::npos);
  CHECK(report.page_cache_bytes == 0);
  CHECK(resident_bytes(WeightSection(model.file->gguf()).bytes()) == 0);
}

TEST_CASE("DeviceCopy uses the registered mapping where the device and the page cache allow it, and says so") {
  const MappedTestModel model(PageCache::base_pages);
  const DeviceCapabilities device = probe_device(0);
  const FolioScan folios = scan_folios(WeightSection(model.file->gguf()).bytes());
  const DeviceCopy policy(*model.file);
  const PlacementReport report = policy.report();
  std::cout << "  " << report << "\n";
  if (device.host_register_read_only_supported && folios.known) {
    CHECK(report.fill_path.find("registered") != std::string::npos);
    CHECK(report.fallbacks.empty());
  } else {
    CHECK(report.fill_path.find("staging") != std::string::npos);
    REQUIRE_FALSE(report.fallbacks.empty());
  }
}

TEST_CASE("page cache in large folios is never registered: DeviceCopy stages, HostRegistered refuses") {
  const MappedTestModel model(PageCache::as_written);
  const FolioScan folios = scan_folios(WeightSection(model.file->gguf()).bytes());
  MESSAGE(folios.large_folio_pages << " of " << folios.pages << " pages in large folios"
                                   << (folios.known ? "" : " (unknown: " + folios.unknown_reason + ")"));
  if (!folios.known || folios.large_folio_pages == 0)
    PAGODA_SKIP(folios.known ? "no large folios seen on this kernel" : "folios unknown: " + folios.unknown_reason);
  const DeviceCopy copy(*model.file, test_options<DeviceCopy>());  // leaves the large folios in place
  CHECK(copy.report().fill_path.find("staging") != std::string::npos);
  REQUIRE_FALSE(copy.report().fallbacks.empty());
  CHECK(copy.report().fallbacks.front().find("large folios") != std::string::npos);
  CHECK_THROWS_WITH_AS(HostRegistered{*model.file}, doctest::Contains("large folios"), Error);
  // What the selection would choose instead works on the same file.
  const auto values = load_and_check<HugepageImport>(model, {}, probe());
  CHECK(values.has_value());
}

TEST_CASE("registration refused at run time: DeviceCopy reports the staging fallback, or throws when told not to") {
  const MappedTestModel model(PageCache::base_pages);
  const DeviceCapabilities device = probe_device(0);
  if (!device.host_register_read_only_supported) PAGODA_SKIP("no read-only registration on this device");
  // While HostRegistered holds the mapping registered, registering it again is refused.
  const HostRegistered holder(*model.file);
  const DeviceCopy staged(*model.file);
  const PlacementReport report = staged.report();
  CHECK(report.fill_path.find("staging") != std::string::npos);
  REQUIRE(report.fallbacks.size() >= 1);
  CHECK(report.fallbacks.front().find("cudaHostRegister") != std::string::npos);

  // And a throw after cudaMalloc releases the allocation.
  const std::int64_t before = free_vram();
  DeviceCopyOptions strict;
  strict.fill = DeviceCopyFill::registered;
  CHECK_THROWS_WITH_AS(DeviceCopy(*model.file, strict), doctest::Contains("registered fill was required"), Error);
  CHECK(free_vram() >= before - 2 * mib);
}

TEST_CASE("HugepageImport's host copy is the file's tensors, zero elsewhere, on the pages it reports") {
  const MappedTestModel model(PageCache::as_written, {.alignment = 64, .big_f32_elements = 1'000'003});
  const DeviceCapabilities device = probe_device(0);
  if (!device.host_register_supported) {
    CHECK_THROWS_AS(HugepageImport{*model.file}, Error);
    return;
  }
  HugepageImportOptions options;
  for (const ReadMode mode : {ReadMode::direct_preferred, ReadMode::buffered}) {
    options.read.mode = mode;
    const HugepageImport policy(*model.file, options);
    const WeightSection section(model.file->gguf());
    const std::span<const std::byte> copy = policy.host_section();
    REQUIRE(copy.size() == section.size());
    for (const auto& tensor : model.file->gguf().tensors())
      CHECK(std::ranges::equal(copy.subspan(section.offset_of(tensor), tensor.byte_size), tensor.bytes));
    for (const ByteRange& gap : section.gaps())
      CHECK(std::ranges::all_of(copy.subspan(gap.offset, gap.size), [](std::byte b) { return b == std::byte{0}; }));
    const PlacementReport report = policy.report();
    CHECK(report.page_bytes >= 4096);
    CHECK(report.hugepage_bytes <= report.host_registered_bytes);
    std::cout << "  " << report << "\n";
  }
}
