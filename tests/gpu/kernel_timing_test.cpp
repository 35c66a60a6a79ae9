// First timings of the decode kernels, reported (MESSAGE), not asserted: the
// speed issue turns them into a benchmark. gemv_q at the projection shapes of
// SmolLM2-135M (576 wide) and Llama-3-8B (4096 x 4096, 14336 x 4096), each
// instantiated launch shape, as microseconds and as GB/s of weight bytes
// (against ~3 TB/s of HBM on an H100); attention_decode at the 8B shape (32
// heads, 8 KV heads, head_dim 128) for several live lengths, as GB/s of KV
// bytes. The integer formats are timed on the fast path (f32 x) and, where
// it applies, the staged path (int16 x) alike. Weights are a constant byte pattern (the speed does not depend on
// the values); each figure is the mean of 50 launches after 5 warm-up ones.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/kernels/attention_decode.cuh>
#include <pagoda/kernels/gemv_q.cuh>
#include <pagoda/quant/float_formats.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/legacy_formats.hpp>

#include "gpu/kernel_support.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

namespace {

// Mean microseconds per call of `launch` on `stream`.
double time_us(cudaStream_t stream, const std::function<void()>& launch) {
  for (int i = 0; i < 5; ++i) launch();
  cudaEvent_t start = nullptr, stop = nullptr;
  kt::cuda_ok(cudaEventCreate(&start), "event");
  kt::cuda_ok(cudaEventCreate(&stop), "event");
  constexpr int runs = 50;
  kt::cuda_ok(cudaEventRecord(start, stream), "record");
  for (int i = 0; i < runs; ++i) launch();
  kt::cuda_ok(cudaEventRecord(stop, stream), "record");
  kt::cuda_ok(cudaEventSynchronize(stop), "sync");
  float ms = 0;
  kt::cuda_ok(cudaEventElapsedTime(&ms, start, stop), "elapsed");
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return 1000.0 * ms / runs;
}

template <class F>
void time_gemv(std::size_t rows, std::size_t cols, cudaStream_t stream) {
  const std::size_t bytes = rows * cols / F::block_elements * F::block_bytes;
  kt::DeviceArray<std::byte> weights(bytes);
  kt::cuda_ok(cudaMemset(weights.get(), 0x3C, bytes), "fill");  // f16 scales 1.06, small quants
  kt::DeviceArray<float> x(cols);
  kt::cuda_ok(cudaMemset(x.get(), 0, cols * sizeof(float)), "fill");
  kt::DeviceArray<float> y(rows);
  for (const auto& policy : kernels::gemv_policies) {
    const double us = time_us(stream, [&] {
      kernels::gemv_q_with<F>(weights.get(), rows, cols, x.get(), y.get(), nullptr, policy, kernels::GemvPath::fast,
                              stream);
    });
    MESSAGE("gemv_q<" << F::name << "> " << rows << " x " << cols << " " << policy << ": " << us << " us, "
                      << static_cast<double>(bytes) / us / 1e3 << " GB/s");
  }
  if (kernels::gemv_takes_staged_path<F>(weights.get(), cols)) {
    for (const auto& policy : kernels::gemv_staged_policies) {
      const double us = time_us(stream, [&] {
        kernels::gemv_q_with<F>(weights.get(), rows, cols, x.get(), y.get(), nullptr, policy,
                                kernels::GemvPath::staged, stream);
      });
      MESSAGE("gemv_q<" << F::name << "> " << rows << " x " << cols << " staged " << policy << ": " << us
                        << " us, " << static_cast<double>(bytes) / us / 1e3 << " GB/s");
    }
  }
}

}  // namespace

TEST_CASE("kernel timing: gemv_q at SmolLM2 and Llama-3-8B shapes (reported, not asserted)") {
  kt::Stream stream;
  time_gemv<quant::Q4_1>(576, 576, stream);
  time_gemv<quant::Q4_1>(1536, 576, stream);
  time_gemv<quant::Q4_1>(49152, 576, stream);
  for (const std::size_t rows : {4096, 14336}) {
    time_gemv<quant::Q4_0>(rows, 4096, stream);
    time_gemv<quant::Q4_1>(rows, 4096, stream);
    time_gemv<quant::Q8_0>(rows, 4096, stream);
    time_gemv<quant::Q4_K>(rows, 4096, stream);
    time_gemv<quant::Q5_K>(rows, 4096, stream);
    time_gemv<quant::Q6_K>(rows, 4096, stream);
    time_gemv<quant::Q3_K>(rows, 4096, stream);  // generic path
    time_gemv<quant::F16>(rows, 4096, stream);
  }
  time_gemv<quant::Q4_0>(4096, 14336, stream);
}

TEST_CASE("kernel timing: attention_decode at the Llama-3-8B shape (reported, not asserted)") {
  kt::Stream stream;
  const kernels::AttentionShape shape{32, 8, 128, 32768, 1.0f / 11.3137f};
  const std::size_t cache = std::size_t{shape.max_context} * shape.n_kv_heads * shape.head_dim;
  kt::DeviceArray<std::uint16_t> k(cache), v(cache);
  kt::cuda_ok(cudaMemset(k.get(), 0x11, cache * 2), "fill");
  kt::cuda_ok(cudaMemset(v.get(), 0x11, cache * 2), "fill");
  kt::DeviceArray<float> q(std::size_t{shape.n_heads} * shape.head_dim), out(q.size());
  kt::cuda_ok(cudaMemset(q.get(), 0, q.bytes()), "fill");
  kt::DeviceArray<std::int32_t> position(1);
  kt::DeviceArray<std::byte> workspace(kernels::attention_decode_workspace_bytes(shape));
  for (const std::int32_t live : {1, 512, 4096, 32768}) {
    const std::int32_t p = live - 1;
    position.upload(std::span<const std::int32_t>(&p, 1));
    const double us = time_us(stream, [&] {
      kernels::attention_decode(q.get(), reinterpret_cast<const __half*>(k.get()),
                                reinterpret_cast<const __half*>(v.get()), out.get(), shape, position.get(),
                                workspace.get(), stream);
    });
    const double kv_bytes = 2.0 * live * shape.n_kv_heads * shape.head_dim * 2;
    MESSAGE("attention_decode 32/8 heads x 128, live " << live << ": " << us << " us, " << kv_bytes / us / 1e3
                                                       << " GB/s of KV");
  }
}
