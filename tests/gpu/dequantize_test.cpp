// kernels::dequantize<F> on the device against the host decoder
// (F::dequantize_block), bit for bit, for every listed format: random blocks,
// odd block counts, output poisoned with NaN first so an unwritten element
// cannot pass. Compiled by the host compiler: it sees the kernel header's
// declarations only and links the instantiations in pagoda_cuda.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>

#include <pagoda/core/error.hpp>
#include <pagoda/kernels/dequantize.cuh>
#include <pagoda/quant/format_list.hpp>

#include "quant/random_blocks.hpp"

using namespace pagoda;
using namespace pagoda::quant;

namespace {

void check(cudaError_t status, const char* what) {
  REQUIRE_MESSAGE(status == cudaSuccess, what << ": " << cudaGetErrorName(status));
}

// One device allocation, freed on scope exit.
class DeviceBuffer {
public:
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    if (bytes_ > 0) check(cudaMalloc(&data_, bytes_), "cudaMalloc");
  }
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  template <class T>
  T* as() const { return static_cast<T*>(data_); }
  std::size_t bytes() const { return bytes_; }

private:
  void* data_ = nullptr;
  std::size_t bytes_;
};

class Stream {
public:
  Stream() { check(cudaStreamCreate(&stream_), "cudaStreamCreate"); }
  ~Stream() { cudaStreamDestroy(stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  operator cudaStream_t() const { return stream_; }

private:
  cudaStream_t stream_ = nullptr;
};

// Dequantizes `blocks` (host bytes of F blocks) on the device; the output
// buffer is filled with NaN (all bits set) before the kernel runs.
template <class F>
std::vector<float> device_dequantize(const std::vector<std::byte>& blocks) {
  const std::size_t n_elements = blocks.size() / F::block_bytes * F::block_elements;
  DeviceBuffer src(blocks.size());
  DeviceBuffer dst(n_elements * sizeof(float));
  Stream stream;
  check(cudaMemcpyAsync(src.as<void>(), blocks.data(), blocks.size(), cudaMemcpyHostToDevice, stream),
        "copy in");
  check(cudaMemsetAsync(dst.as<void>(), 0xff, dst.bytes(), stream), "poison");
  kernels::dequantize<F>(src.as<const std::byte>(), dst.as<float>(), n_elements, stream);
  std::vector<float> out(n_elements);
  check(cudaMemcpyAsync(out.data(), dst.as<void>(), dst.bytes(), cudaMemcpyDeviceToHost, stream),
        "copy out");
  check(cudaStreamSynchronize(stream), "kernel");
  return out;
}

template <class F>
void require_matches_host(const std::vector<std::byte>& blocks, const std::vector<float>& device) {
  const std::size_t n_blocks = blocks.size() / F::block_bytes;
  REQUIRE(device.size() == n_blocks * F::block_elements);
  std::vector<float> host(F::block_elements);
  std::size_t nonzero = 0;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    typename F::block block;
    std::memcpy(&block, blocks.data() + b * F::block_bytes, F::block_bytes);
    F::dequantize_block(block, host.data());
    for (std::size_t j = 0; j < F::block_elements; ++j) {
      const float got = device[b * F::block_elements + j];
      nonzero += got != 0.0f;
      if (std::memcmp(&got, &host[j], sizeof(float)) != 0)
        FAIL(F::name << " block " << b << " element " << j << ": device " << got << ", host "
                     << host[j]);
    }
  }
  CHECK(nonzero > device.size() / 2);  // the random input decoded to real values
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("kernels::dequantize<F> matches the host decoder bit for bit", F, device_id) {
  std::mt19937 rng(7);
  // Odd counts, and for one-element formats enough blocks for several thread blocks.
  const std::size_t scale = F::block_elements == 1 ? 256 : 1;
  for (std::size_t n_blocks : {std::size_t{1}, std::size_t{17}, std::size_t{31}, std::size_t{33},
                               std::size_t{1000}}) {
    CAPTURE(n_blocks * scale);
    const std::vector<std::byte> blocks = testing::random_blocks<F>(n_blocks * scale, rng);
    require_matches_host<F>(blocks, device_dequantize<F>(blocks));
  }
}
TEST_CASE_TEMPLATE_APPLY(device_id, testing::as_tuple<formats>::type);

TEST_CASE("the kernel's grid-stride loop covers more elements than one grid holds") {
  const std::size_t one_grid = std::size_t{kernels::dequantize_policy.threads} *
                               kernels::dequantize_policy.max_grid;
  const std::size_t n_blocks = one_grid / Q4_0::block_elements + 101;
  std::mt19937 rng(11);
  const std::vector<std::byte> blocks = testing::random_blocks<Q4_0>(n_blocks, rng);
  require_matches_host<Q4_0>(blocks, device_dequantize<Q4_0>(blocks));
}

TEST_CASE("F16 and BF16 widen all 65536 bit patterns on the device exactly as on the host") {
  std::vector<std::byte> all(2 * 65536);
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const auto bits = static_cast<std::uint16_t>(h);
    std::memcpy(all.data() + 2 * h, &bits, 2);  // NaN, inf, subnormals, -0 included
  }
  const std::vector<float> f16 = device_dequantize<F16>(all);
  const std::vector<float> bf16 = device_dequantize<BF16>(all);
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const float want_f16 = f16_to_f32({static_cast<std::uint16_t>(h)});
    const float want_bf16 = bf16_to_f32({static_cast<std::uint16_t>(h)});
    REQUIRE_MESSAGE(std::memcmp(&f16[h], &want_f16, 4) == 0, "f16 bits " << h);
    REQUIRE_MESSAGE(std::memcmp(&bf16[h], &want_bf16, 4) == 0, "bf16 bits " << h);
  }
}

TEST_CASE("kernels::dequantize refuses a partial block and a misaligned source, naming the format") {
  DeviceBuffer src(2 * Q4_K::block_bytes + 2);
  DeviceBuffer dst(2 * Q4_K::block_elements * sizeof(float));
  CHECK_THROWS_WITH_AS(kernels::dequantize<Q4_K>(src.as<const std::byte>(), dst.as<float>(), 300, nullptr),
                       doctest::Contains("kernels::dequantize<Q4_K>"), Error);
  CHECK_THROWS_WITH_AS(
      kernels::dequantize<Q4_K>(src.as<const std::byte>() + 1, dst.as<float>(), 256, nullptr),
      doctest::Contains("aligned"), Error);
  CHECK_NOTHROW(kernels::dequantize<Q4_K>(src.as<const std::byte>(), dst.as<float>(), 0, nullptr));
  check(cudaDeviceSynchronize(), "sync");
}
