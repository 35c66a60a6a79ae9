// First timings of the prefill kernels at Llama-3-8B shapes (median of 20
// runs, cudaEvent), reported as messages, never asserted: a speed check for
// people, the benchmark proper is pagoda-bench. Weights are random Q4_0 / Q4_K
// in device memory; 512 tokens as in llama-bench's pp512.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <cuda_runtime_api.h>

#include <pagoda/kernels/attention_prefill.cuh>
#include <pagoda/kernels/matmul_q.cuh>
#include <pagoda/quant/format_list.hpp>

#include "gpu/prefill_support.hpp"

using namespace pagoda;

namespace {

template <class F>
void time_matmul(std::size_t rows, std::size_t cols, std::size_t tokens) {
  std::mt19937 rng(3);
  std::vector<std::byte> bytes(rows * cols / F::block_elements * F::block_bytes);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::byte& b : bytes) b = static_cast<std::byte>(byte(rng));  // timing only: values do not matter
  prefill_test::DeviceArray<std::byte> w(bytes);
  prefill_test::DeviceArray<float> x(prefill_test::random_floats(tokens * cols, -1.0f, 1.0f, rng)), y(tokens * rows);
  const double ms = prefill_test::median_ms(
      [&] { kernels::matmul_q<F>(w.get(), rows, cols, x.get(), tokens, y.get(), nullptr, nullptr); });
  const double tflops = 2.0 * double(rows) * double(cols) * double(tokens) / (ms * 1e-3) / 1e12;
  int device = 0, sms = 0;
  prefill_test::cuda_ok(cudaGetDevice(&device), "cudaGetDevice");
  prefill_test::cuda_ok(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "attribute");
  MESSAGE("matmul_q<" << F::name << "> " << rows << " x " << cols << " x " << tokens << " tokens: " << ms
                      << " ms, " << tflops << " TFLOP/s (" << kernels::select_matmul_policy(tokens, rows, sms)
                      << ")");
}

void time_attention(std::uint32_t start, std::size_t tokens) {
  const std::uint32_t heads = 32, kv_heads = 8, dim = 128;
  const std::uint32_t context = start + static_cast<std::uint32_t>(tokens);
  std::mt19937 rng(4);
  prefill_test::DeviceArray<float> q(prefill_test::random_floats(tokens * heads * dim, -1.0f, 1.0f, rng)), out(tokens * heads * dim);
  std::vector<std::uint16_t> cache(std::size_t{context} * kv_heads * dim, 0x3000);  // 0.125
  prefill_test::DeviceArray<std::uint16_t> k(cache), v(cache);
  const double ms = prefill_test::median_ms([&] {
    kernels::attention_prefill(q.get(), reinterpret_cast<const __half*>(k.get()),
                               reinterpret_cast<const __half*>(v.get()), out.get(), heads, kv_heads, dim, context,
                               0.088f, start, tokens, nullptr);
  });
  double pairs = 0;  // (query, key) pairs inside the causal mask
  for (std::size_t t = 0; t < tokens; ++t) pairs += double(start + t + 1);
  const double tflops = 4.0 * pairs * heads * dim / (ms * 1e-3) / 1e12;
  MESSAGE("attention_prefill 32/8 heads x 128, start " << start << ", " << tokens << " tokens: " << ms << " ms, "
                                                       << tflops << " TFLOP/s");
}

}  // namespace

TEST_CASE("prefill timing: matmul_q and attention_prefill at Llama-3-8B shapes (reported, not asserted)") {
  time_matmul<quant::Q4_0>(4096, 4096, 512);
  time_matmul<quant::Q4_0>(14336, 4096, 512);
  time_matmul<quant::Q4_0>(4096, 14336, 512);
  time_matmul<quant::Q4_K>(4096, 4096, 512);
  time_matmul<quant::Q4_0>(4096, 4096, 16);
  time_attention(0, 512);
  time_attention(3584, 512);
}
