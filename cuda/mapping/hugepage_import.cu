// HugepageImport's constructor (see mapping/hugepage_import.hpp): the section
// image (huge pages, read in, non-tensor bytes zeroed), sealed, registered.
// The order of the locals is the order of release on an exception: the
// registration (declared after the memory) always goes before the memory.
#include <optional>
#include <string>

#include "pagoda/core/error.hpp"
#include "pagoda/core/stopwatch.hpp"
#include "pagoda/mapping/byte_text.hpp"
#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/mapping/hugepage_import.hpp"
#include "pagoda/mapping/page_cache.hpp"
#include "pagoda/mapping/section_image.hpp"

namespace pagoda::mapping {

namespace {

int device_attribute(cudaDeviceAttr which, const char* name, int device) {
  int value = 0;
  pagoda::check_cuda(cudaDeviceGetAttribute(&value, which, device), "cudaDeviceGetAttribute",
                      std::string("HugepageImport: ") + name);
  return value;
}

}  // namespace

HugepageImport::HugepageImport(const gguf::MappedFile& file, const Options& options) : section_(file.gguf()) {
  const Stopwatch total;
  const pagoda::ScopedDevice current(options.device);
  pagoda::check_cuda(cudaFree(nullptr), "cudaFree(nullptr)", "HugepageImport: creating the CUDA context");
  if (device_attribute(cudaDevAttrHostRegisterSupported, "HostRegisterSupported", options.device) == 0)
    throw Error("HugepageImport: device " + std::to_string(options.device) +
                " reports hostRegisterSupported=0: its anonymous memory cannot be registered for the GPU; use "
                "hmm-direct (where pageableMemoryAccess=1) or device-copy");
  const bool read_only_registration =
      device_attribute(cudaDevAttrHostRegisterReadOnlySupported, "HostRegisterReadOnlySupported", options.device) != 0;
  const pagoda::DeviceMemoryInfo before = pagoda::device_memory_info("HugepageImport");

  report_.policy = id;
  report_.residence = residence;
  report_.tensor_bytes = section_.tensor_bytes();
  if (section_.size() == 0) {
    report_.where = "nowhere (no tensors)";
    report_.fill_path = "nothing to read";
    report_.total_seconds = total.seconds();
    return;
  }

  SectionImage image = read_section_image(file, section_, options.memory, options.read, probe_os());
  AnonymousMapping& writable = image.memory;
  lead_bytes_ = image.lead_bytes;
  report_.where = "anonymous memory on " + writable.description() + ", sealed read-only and registered";
  report_.page_bytes = writable.page_bytes();
  report_.fallbacks = writable.fallbacks();
  report_.read_seconds = image.read.seconds;
  report_.fill_path = image.read.direct ? "O_DIRECT reads" : "buffered pread";
  if (!image.read_choice.empty()) report_.notes.push_back(image.read_choice);
  if (!image.read.fallback.empty())
    report_.fallbacks.push_back("O_DIRECT not used: " + image.read.fallback + "; buffered pread instead");
  report_.hugepage_bytes = writable.huge_page_bytes();

  // Without read-only registration the memory must be registered while it
  // is still writable (a PROT_READ range cannot be registered otherwise).
  const std::string context = "HugepageImport: " + bytes_text(writable.mapped_bytes().size()) + " of " +
                              writable.description() + " for " + section_.file_name();
  const Stopwatch registering;
  std::optional<pagoda::HostRegistration> early;
  const std::byte* device_base = nullptr;
  if (!read_only_registration) {
    early.emplace(writable.mapped_bytes().data(), writable.mapped_bytes().size(), cudaHostRegisterMapped, context);
    device_base = early->device_pointer();
    report_.fallbacks.push_back(
        "device reports hostRegisterReadOnlySupported=0: registered before sealing (the GPU's view is writable; "
        "nothing writes it)");
  }
  ReadOnlyAnonymousMapping sealed = std::move(writable).seal();
  pagoda::HostRegistration registration =
      early ? std::move(*early)
            : pagoda::HostRegistration(sealed.mapped_bytes().data(), sealed.mapped_bytes().size(),
                                        cudaHostRegisterReadOnly | cudaHostRegisterMapped, context);
  if (device_base == nullptr) device_base = registration.device_pointer();
  report_.register_seconds = registering.seconds();
  report_.host_registered_bytes = registration.size();
  device_section_ = device_base + lead_bytes_;
  memory_.emplace(std::move(sealed));
  registration_ = std::move(registration);

  // A buffered read leaves the file in the page cache; so may an earlier
  // reader. Either way the weights now live in the image.
  if (options.release_page_cache) {
    const Stopwatch releasing;
    const mapping::ReadOnlyFile& source = file.mapping();
    record_page_cache_release(report_, release_page_cache(source, section_.file_range()), releasing.seconds());
  }
  report_.page_cache_bytes = resident_bytes(section_.bytes());
  const pagoda::DeviceMemoryInfo after = pagoda::device_memory_info("HugepageImport");
  report_.vram_delta_bytes =
      static_cast<std::int64_t>(before.free_bytes) - static_cast<std::int64_t>(after.free_bytes);
  report_.total_seconds = total.seconds();
}

}  // namespace pagoda::mapping
