// pagoda-kernel-bench: pagoda's decode kernels timed alone, against the
// device's streaming-read bandwidth measured at start-up — the GEMVs of one
// decode step of each named model shape in each format, and attention decode
// at growing KV depths. Both are bandwidth-bound, so GB/s over the measured
// read is the figure of merit. Then the prefill matmuls of the same shapes at
// several token counts and prefill attention at several prompt lengths,
// compute-bound: TFLOP/s, against a tensor-core peak when one is given. Last
// the sampler, latency-bound: µs per call under each block_top_k policy.
// Report on stdout (-o) and in files (--save).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>

#include "kernel_bench/cases.hpp"
#include "kernel_bench/options.hpp"
#include "kernel_bench/report.hpp"
#include "kernel_timing.hpp"
#include "pagoda/core/error.hpp"
#include "pagoda/kernels/device_info.hpp"
#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda_bench/stream_read.hpp"

namespace kb = pagoda::kernel_bench;

namespace {

// Copies of a case's inputs add up to at least this many L2s.
constexpr std::uint64_t l2_multiple = 3;
// A prefill matmul reads each weight byte from L2 once per token tile anyway
// and is compute-bound, as prefill attention is: copies beyond one L2 only
// lengthen the run.
constexpr std::uint64_t prefill_l2_multiple = 1;
constexpr int device_read_passes = 21;

int run(const kb::KernelBenchOptions& options) {
  const auto device = pagoda::mapping::probe_device();
  if (!device.present) throw pagoda::Error("no usable CUDA device: " + device.absent_reason);
  int l2 = 0;
  pagoda::check_cuda(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device.ordinal),
                              "cudaDeviceGetAttribute", "L2 size");

  kb::KernelReport report;
  report.device_name = device.name;
  report.compute_major = device.compute_major;
  report.compute_minor = device.compute_minor;
  report.l2_bytes = static_cast<std::uint64_t>(l2);
  report.footprint_bytes = l2_multiple * report.l2_bytes;
  report.prefill_footprint_bytes = prefill_l2_multiple * report.l2_bytes;
  report.tc_peak_tflops = options.tc_peak_tflops;
  report.samples = static_cast<int>(options.samples);
  report.device_read = pagoda::bench::measure_device_read(std::uint64_t{options.probe_mib} << 20, device_read_passes);
  std::fprintf(stderr, "pagoda-kernel-bench: streaming read of device memory: %.1f GB/s\n", report.device_read->gb_s);

  const kb::TimingPlan plan{.footprint_bytes = report.footprint_bytes, .samples = options.samples};
  const kb::TimingPlan prefill_plan{.footprint_bytes = report.prefill_footprint_bytes, .samples = options.samples};
  pagoda::CudaStream stream("pagoda-kernel-bench");
  // The launchers' view of the device, made once as an engine makes its own (PDL on where it runs).
  const auto device_info = pagoda::kernels::DeviceInfo::current();
  if (options.gemv) {
    report.gemv = kb::plan_gemv(options.shapes, options.formats);
    kb::time_gemv(report.gemv, plan, device_info, stream.get());
  }
  if (options.attention) {
    report.attention = kb::plan_attention(options.attention_shape, options.depths, options.attention_blocks,
                                          options.attention_direct);
    kb::time_attention(report.attention, plan, device_info, stream.get());
  }
  if (options.prefill) {
    report.prefill = kb::plan_prefill(options.shapes, options.formats, options.tokens);
    kb::time_prefill(report.prefill, prefill_plan, device_info, stream.get());
  }
  if (options.prefill_attention) {
    report.prefill_attention = kb::plan_prefill_attention(options.attention_shape, options.attention_tokens);
    kb::time_prefill_attention(report.prefill_attention, prefill_plan, device_info, stream.get());
  }
  if (options.sampling) {
    report.sampling = kb::plan_sampling(options.sampling_vocab, kb::sampling_policies());
    kb::time_sampling(report.sampling, options.samples, stream.get());
  }

  std::cout << kb::format_report(options.output, report) << std::flush;
  for (const auto& target : options.saves) {
    std::ofstream out(target.path, std::ios::binary | std::ios::trunc);
    out << kb::format_report(target.format, report);
    out.close();
    if (!out) throw pagoda::Error("--save: cannot write " + target.path.string());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto options = kb::parse_kernel_bench_arguments(std::vector<std::string>(argv + 1, argv + argc));
    if (options.help) {
      std::cout << kb::kernel_bench_usage();
      return 0;
    }
    return run(options);
  } catch (const pagoda::bench::UsageError& e) {
    std::fprintf(stderr, "pagoda-kernel-bench: %s (see --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagoda-kernel-bench: %s\n", e.what());
    return 1;
  }
}
