// pagoda-kernel-bench's command line. Host-only; errors name their flag
// (pagoda_bench::UsageError), as pagoda-bench's do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pagoda/gguf/tensor_type.hpp"
#include "pagoda_bench/arguments.hpp"

namespace pagoda::kernel_bench {

struct KernelBenchOptions {
  bool help = false;
  std::vector<std::string> shapes{"smollm2-135m", "llama-3.2-1b", "llama-3-8b"};  // --shapes
  std::vector<gguf::TensorType> formats;               // --formats; default: default_formats()
  std::string attention_shape = "llama-3-8b";          // --attention-shape: decode and prefill attention
  std::vector<std::uint32_t> depths{512, 4096, 16384, 32768};  // --depths
  std::vector<std::uint32_t> attention_blocks;         // --attention-blocks: grid targets; empty: the policy's
  bool attention_direct = false;                       // --attention-direct: one-launch rows too
  std::vector<std::uint32_t> attention_tokens{512, 2048, 8192};  // --attention-tokens: prefill attention prompts
  std::uint32_t sampling_vocab = 128256;               // --sampling-vocab: Llama 3's vocabulary
  std::vector<std::uint32_t> tokens{128, 512, 2048};   // --tokens: M of each prefill matmul
  double tc_peak_tflops = 0;                           // --tc-peak-tflops; 0: no % of peak
  std::uint32_t samples = 50;                          // --samples: timed graph replays per case
  bool gemv = true;                                    // --no-gemv
  bool attention = true;                               // --no-attention
  bool prefill = true;                                 // --no-prefill (--prefill: back on)
  bool prefill_attention = true;                       // --no-prefill-attention
  bool sampling = true;                                // --no-sampling
  bench::OutputFormat output = bench::OutputFormat::markdown;  // -o
  std::vector<bench::SaveTarget> saves;                // --save PATH
  std::uint32_t probe_mib = 1024;                      // --probe-mib
};

// The block formats and F16: every quantization a GGUF model ships in.
[[nodiscard]] std::vector<gguf::TensorType> default_formats();

[[nodiscard]] std::string kernel_bench_usage();

// Parses argv[1..]; throws bench::UsageError naming the flag.
[[nodiscard]] KernelBenchOptions parse_kernel_bench_arguments(std::vector<std::string> args);

inline constexpr std::uint32_t min_samples = 50;  // a median of fewer is not worth printing
inline constexpr std::uint32_t max_prefill_tokens = 32768;  // --tokens and --attention-tokens
inline constexpr std::uint32_t max_sampling_vocab = 1u << 22;
inline constexpr double max_tc_peak_tflops = 100000;

}  // namespace pagoda::kernel_bench
