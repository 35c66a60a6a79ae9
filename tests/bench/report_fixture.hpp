// One BenchReport with every kind of row: a device-copy run with a prefill and
// a decode test, and a refused hmm-direct run whose reason holds the
// characters each format must escape.
#pragma once

#include "pagoda_bench/results.hpp"

namespace pagoda::bench::test {

inline constexpr const char* refusal = "HmmDirect needs pageableMemoryAccess = 1 | the device reports 0, \"no HMM\"";

inline BenchReport sample_report() {
  BenchReport report;
  report.machine = {.device_name = "NVIDIA H100 80GB HBM3",
                    .compute_major = 9,
                    .compute_minor = 0,
                    .vram_total_bytes = 80ull << 30,
                    .driver_version = 13000,
                    .runtime_version = 13000,
                    .device_read = LinkMeasurement{2991.0, 1ull << 30, 21},
                    .host_read = LinkMeasurement{50.2, 1ull << 30, 9},
                    .host_read_problem = ""};
  report.settings = {.repetitions = 2, .warmup = true, .seed = 1, .batch = 512, .cuda_graph = true, .context = 640,
                     .pagoda_version = "0.1.0"};
  const ModelInfo model{.name = "synthetic llama-3-8b Q4_0",
                        .path = "/tmp/m.gguf",
                        .size_bytes = 4649385984,
                        .params = 8030261248,
                        .weight_bytes_per_token = 4355000000,
                        .kv_bytes_per_position = 131072,
                        .vocab = 128256};
  PolicyRun device;
  device.model = model;
  device.policy = "device-copy";
  device.link = "VRAM";
  device.link_gb_s = 2991.0;
  device.load = {.seconds = 1.5,
                 .placement_seconds = 1.25,
                 .vram_delta_bytes = 4831838208,
                 .engine_vram_delta_bytes = 5905580032,
                 .working_vram_bytes = 1073741824,
                 .host_registered_bytes = 0,
                 .page_cache_bytes = 0,
                 .hugepage_bytes = 0,
                 .rss_bytes = 536870912,
                 .rss_delta_bytes = -1048576,
                 .rss_file_bytes = 4096,
                 .placement = "device-copy (device memory): ...",
                 .fallbacks = {"registered mmap: large folios; staged instead"}};
  device.tests.push_back({.test = {.n_prompt = 512}, .seconds = {0.05, 0.05}, .roofline_percent = std::nullopt});
  device.tests.push_back({.test = {.n_gen = 128}, .seconds = {0.4, 0.5}, .roofline_percent = 42.0});
  report.runs.push_back(device);

  PolicyRun refused;
  refused.model = model;
  refused.policy = "hmm-direct";
  refused.status = RunStatus::refused;
  refused.reason = refusal;
  report.runs.push_back(refused);
  return report;
}

}  // namespace pagoda::bench::test
