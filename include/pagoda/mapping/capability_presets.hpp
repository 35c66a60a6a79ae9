// Named platforms as capability values, for the selection tests and for
// reasoning about machines pagoda has not been run on. Figures follow the
// brief (the H100 machine) and the vendors' published attributes; each preset
// names what makes its platform distinct.
#pragma once

#include <cstdint>

#include "pagoda/mapping/capabilities.hpp"

namespace pagoda::mapping::presets {

inline constexpr std::uint64_t gib = std::uint64_t{1} << 30;
inline constexpr std::uint64_t mib = std::uint64_t{1} << 20;

// An x86-64 Linux host: 2 MiB and 1 GiB hugetlb pools with no pages reserved
// (none at boot; only root may reserve), THP in madvise mode, 8 MiB memlock.
inline OsCapabilities x86_host(std::uint64_t ram_bytes) {
  OsCapabilities os;
  os.hugepage_pools = {HugepagePool{2 * mib, 0, 0, 0, false}, HugepagePool{gib, 0, 0, 0, false}};
  os.thp_mode = ThpMode::madvise;
  os.memlock_limit_bytes = 8 * mib;
  os.page_bytes = 4096;
  os.total_ram_bytes = ram_bytes;
  os.available_ram_bytes = ram_bytes - ram_bytes / 8;
  return os;
}

// The brief's machine: H100 80 GB HBM3 on PCIe Gen5, driver 580, CUDA 13.0.
// No HMM/ATS (pageableMemoryAccess = 0), read-only registration works.
inline Capabilities h100_pcie() {
  Capabilities c;
  c.device = {.present = true, .absent_reason = {}, .ordinal = 0,
              .name = "NVIDIA H100 80GB HBM3", .compute_major = 9, .compute_minor = 0,
              .integrated = false, .pageable_memory_access = false,
              .pageable_memory_access_uses_host_page_tables = false,
              .host_register_supported = true, .host_register_read_only_supported = true,
              .can_use_host_pointer_for_registered_mem = true, .concurrent_managed_access = true,
              .free_vram_bytes = 78 * gib, .total_vram_bytes = 79 * gib + 200 * mib};
  c.os = x86_host(128 * gib);
  return c;
}

// DGX Spark / GB10: one LPDDR5X memory shared by CPU and GPU over NVLink-C2C,
// coherent (ATS), and cudaHostRegister refused (cudaErrorNotSupported) — the
// platform of the brief's silent 87 GB copy.
inline Capabilities gb10_like() {
  Capabilities c;
  c.device = {.present = true, .absent_reason = {}, .ordinal = 0, .name = "NVIDIA GB10",
              .compute_major = 12, .compute_minor = 1, .integrated = true,
              .pageable_memory_access = true,
              .pageable_memory_access_uses_host_page_tables = true,
              .host_register_supported = false, .host_register_read_only_supported = false,
              .can_use_host_pointer_for_registered_mem = true, .concurrent_managed_access = true,
              .free_vram_bytes = 110 * gib, .total_vram_bytes = 119 * gib};
  c.os = x86_host(119 * gib);  // arm64 in reality; the pools and THP mode are what matter
  c.os.hugepage_pools.pop_back();
  return c;
}

// GH200: a discrete Hopper with 96 GB HBM, coherent with a 480 GB LPDDR5X
// host over NVLink-C2C (ATS), 64 KiB base pages.
inline Capabilities gh200_like() {
  Capabilities c;
  c.device = {.present = true, .absent_reason = {}, .ordinal = 0, .name = "NVIDIA GH200 480GB",
              .compute_major = 9, .compute_minor = 0, .integrated = false,
              .pageable_memory_access = true,
              .pageable_memory_access_uses_host_page_tables = true,
              .host_register_supported = true, .host_register_read_only_supported = true,
              .can_use_host_pointer_for_registered_mem = true, .concurrent_managed_access = true,
              .free_vram_bytes = 94 * gib, .total_vram_bytes = 95 * gib};
  c.os = x86_host(480 * gib);
  c.os.page_bytes = 65536;
  return c;
}

// A small discrete card (8 GB, Ada) on PCIe, no HMM.
inline Capabilities small_discrete() {
  Capabilities c;
  c.device = {.present = true, .absent_reason = {}, .ordinal = 0,
              .name = "NVIDIA GeForce RTX 4060", .compute_major = 8, .compute_minor = 9,
              .integrated = false, .pageable_memory_access = false,
              .pageable_memory_access_uses_host_page_tables = false,
              .host_register_supported = true, .host_register_read_only_supported = true,
              .can_use_host_pointer_for_registered_mem = true, .concurrent_managed_access = true,
              .free_vram_bytes = 7 * gib + 512 * mib, .total_vram_bytes = 8 * gib};
  c.os = x86_host(32 * gib);
  return c;
}

// An APU / integrated GPU without HMM (Jetson Orin-like): registration works
// but not read-only registration, so a PROT_READ file mapping cannot be
// registered; hugepage import (anonymous memory it owns) can.
inline Capabilities integrated_apu() {
  Capabilities c;
  c.device = {.present = true, .absent_reason = {}, .ordinal = 0, .name = "NVIDIA Orin (APU)",
              .compute_major = 8, .compute_minor = 7, .integrated = true,
              .pageable_memory_access = false,
              .pageable_memory_access_uses_host_page_tables = false,
              .host_register_supported = true, .host_register_read_only_supported = false,
              .can_use_host_pointer_for_registered_mem = true, .concurrent_managed_access = false,
              .free_vram_bytes = 28 * gib, .total_vram_bytes = 30 * gib};
  c.os = x86_host(30 * gib);
  return c;
}

// No usable CUDA device.
inline Capabilities no_device() {
  Capabilities c;
  c.device.absent_reason = "cudaGetDeviceCount: cudaErrorNoDevice";
  c.os = x86_host(64 * gib);
  return c;
}

}  // namespace pagoda::mapping::presets
