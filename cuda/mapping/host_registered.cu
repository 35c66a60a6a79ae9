// HostRegistered's constructor (see mapping/host_registered.hpp): register
// the file mapping read-only and take its device address. Nothing is copied.
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "pagoda/core/error.hpp"
#include "pagoda/core/stopwatch.hpp"
#include "pagoda/mapping/byte_text.hpp"
#include "pagoda/mapping/host_registered.hpp"
#include "pagoda/mapping/page_cache.hpp"

namespace pagoda::mapping {

namespace {

int device_attribute(cudaDeviceAttr which, const char* name, int device) {
  int value = 0;
  pagoda::check_cuda(cudaDeviceGetAttribute(&value, which, device), "cudaDeviceGetAttribute",
                      std::string("HostRegistered: ") + name);
  return value;
}

}  // namespace

HostRegistered::HostRegistered(const gguf::MappedFile& file, const Options& options) : section_(file.gguf()) {
  const Stopwatch total;
  const pagoda::ScopedDevice current(options.device);
  pagoda::check_cuda(cudaFree(nullptr), "cudaFree(nullptr)", "HostRegistered: creating the CUDA context");
  if (device_attribute(cudaDevAttrHostRegisterSupported, "HostRegisterSupported", options.device) == 0)
    throw Error("HostRegistered: device " + std::to_string(options.device) +
                " reports hostRegisterSupported=0: cudaHostRegister is not available there; use hmm-direct "
                "(where pageableMemoryAccess=1) or device-copy");
  if (device_attribute(cudaDevAttrHostRegisterReadOnlySupported, "HostRegisterReadOnlySupported", options.device) == 0)
    throw Error("HostRegistered: device " + std::to_string(options.device) +
                " reports hostRegisterReadOnlySupported=0: the file is mapped read-only and can only be "
                "registered with cudaHostRegisterReadOnly (pagoda never makes it writable); use hugepage-import "
                "or device-copy");
  const pagoda::DeviceMemoryInfo before = pagoda::device_memory_info("HostRegistered");

  report_.policy = id;
  report_.residence = residence;
  report_.where = "file mapping (page cache), registered read-only";
  report_.fill_path = "in place (zero-copy)";
  report_.tensor_bytes = section_.tensor_bytes();
  report_.page_bytes = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  if (section_.size() != 0) {
    const int fd = file.mapping().fd();
    if (options.read_ahead)
      ::posix_fadvise(fd, static_cast<off_t>(section_.file_offset()), static_cast<off_t>(section_.size()),
                      POSIX_FADV_WILLNEED);
    if (options.refuse_large_folios) {
      const FolioScan folios = scan_folios(section_.bytes(), FolioScanExtent::until_first_large);
      if (folios.known && folios.large_folio_pages != 0)
        throw Error("HostRegistered: the page cache holds " + section_.file_name() + " in large folios (" +
                    std::to_string(folios.large_folio_pages) + " pages in the first " + std::to_string(folios.pages) +
                    "), and cudaHostRegister hangs on such pages on this kernel and driver (seen on Linux "
                    "6.18, driver 580); use hugepage-import (zero-copy from anonymous memory) or device-copy");
      if (!folios.known)
        report_.notes.push_back("page-cache folio sizes unchecked (" + folios.unknown_reason +
                                "); registering large folios can hang");
    }
    const std::byte* const host = section_.bytes().data();
    const ByteRange cover = page_cover({reinterpret_cast<std::uintptr_t>(host), section_.size()}, report_.page_bytes);
    const Stopwatch registering;
    pagoda::HostRegistration registration(reinterpret_cast<const void*>(cover.offset), cover.size,
                                           cudaHostRegisterReadOnly | cudaHostRegisterMapped,
                                           "HostRegistered: the read-only mapping of " + section_.file_name() +
                                               " (" + bytes_text(cover.size) + ")");
    report_.register_seconds = registering.seconds();
    device_section_ = registration.device_pointer() + (host - registration.host());
    if (device_section_ == host) report_.notes.push_back("device pointers equal host pointers");
    report_.host_registered_bytes = registration.size();
    registration_ = std::move(registration);
    report_.page_cache_bytes = resident_bytes(section_.bytes());
  }
  const pagoda::DeviceMemoryInfo after = pagoda::device_memory_info("HostRegistered");
  report_.vram_delta_bytes =
      static_cast<std::int64_t>(before.free_bytes) - static_cast<std::int64_t>(after.free_bytes);
  report_.total_seconds = total.seconds();
}

}  // namespace pagoda::mapping
