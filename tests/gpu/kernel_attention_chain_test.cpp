// The decode step's attention chain as the engine captures it (q and k
// landing from the step's products, rope_kv_store, attention_decode's split
// and merge) gives the same output bit for bit whether its kernels are
// programmatic launches or plain ones: a kernel that read its predecessor's
// output before its pdl_wait (q unrotated, the new K row not yet stored)
// would differ. Each kernel has its own oracle test (kernel_rope_kv_store_test,
// kernel_attention_decode_test); this one checks the launches.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/kernels/attention_decode.cuh>
#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/rope_kv_store.cuh>
#include <pagoda/quant/half.hpp>

#include "gpu/kernel_support.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

namespace {

struct ChainCase {
  kernels::AttentionShape shape;
  kernels::RopeParams rope;
  std::vector<float> q, k, v;             // the products' outputs, before RoPE
  std::vector<std::uint16_t> cache_bits;  // the rows already cached (f16), for K and V alike
};

// One captured step at `position` under `device`'s launch choices: the output heads.
std::vector<float> run_chain(const ChainCase& c, const kernels::DeviceInfo& device, std::int32_t position) {
  kt::Stream stream;
  const std::size_t kv_dim = std::size_t{c.shape.n_kv_heads} * c.shape.head_dim;
  const kt::DeviceArray<float> q_in{std::span<const float>(c.q)}, k_in{std::span<const float>(c.k)};
  const kt::DeviceArray<float> v{std::span<const float>(c.v)};
  kt::DeviceArray<float> q(c.q.size()), k(c.k.size()), out(c.q.size());
  kt::DeviceArray<std::uint16_t> k_cache{std::span<const std::uint16_t>(c.cache_bits)};
  kt::DeviceArray<std::uint16_t> v_cache{std::span<const std::uint16_t>(c.cache_bits)};
  REQUIRE(k_cache.size() == std::size_t{c.shape.max_context} * kv_dim);
  const std::vector<std::int32_t> positions{position};
  const kt::DeviceArray<std::int32_t> device_position{std::span<const std::int32_t>(positions)};
  kt::DeviceArray<std::byte> workspace(kernels::attention_decode_workspace_bytes(c.shape, device));
  auto* keys = reinterpret_cast<__half*>(k_cache.get());
  auto* values = reinterpret_cast<__half*>(v_cache.get());

  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  kt::cuda_ok(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "begin capture");
  kt::cuda_ok(cudaMemcpyAsync(q.get(), q_in.get(), q.bytes(), cudaMemcpyDeviceToDevice, stream), "q");
  kt::cuda_ok(cudaMemcpyAsync(k.get(), k_in.get(), k.bytes(), cudaMemcpyDeviceToDevice, stream), "k");
  kernels::rope_kv_store(q.get(), k.get(), v.get(), keys, values, c.shape.n_heads, c.shape.n_kv_heads, c.rope,
                         device_position.get(), stream, 1, nullptr, device.programmatic_launch());
  kernels::attention_decode(q.get(), keys, values, out.get(), c.shape, device_position.get(), workspace.get(), device,
                            stream);
  kt::cuda_ok(cudaStreamEndCapture(stream, &graph), "end capture");
  kt::cuda_ok(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
  out.poison();
  for (int replay = 0; replay < 3; ++replay) kt::cuda_ok(cudaGraphLaunch(exec, stream), "graph launch");
  stream.sync();
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  return out.download();
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("the decode attention chain gives the same output bit for bit with and without programmatic launches") {
  std::mt19937 rng(1313);
  const auto current = kernels::DeviceInfo::current();
  for (const std::uint32_t window : {0u, 96u}) {
    CAPTURE(window);
    ChainCase c{.shape = {32, 8, 128, 1024, 1.0f / std::sqrt(128.0f), window},
                .rope = {128, 128, 500000.0f, 1.0f, nullptr, model::RopeLayout::interleaved}};
    const std::size_t kv_dim = std::size_t{c.shape.n_kv_heads} * c.shape.head_dim;
    c.q = kt::random_normal(std::size_t{c.shape.n_heads} * c.shape.head_dim, rng, 2.0f);
    c.k = kt::random_normal(kv_dim, rng);
    c.v = kt::random_normal(kv_dim, rng);
    const std::vector<float> cached = kt::random_normal(std::size_t{c.shape.max_context} * kv_dim, rng);
    for (const float x : cached) c.cache_bits.push_back(quant::f32_to_f16(x).bits);
    for (const std::int32_t position : {0, 1, 63, 64, 700, 1023}) {
      CAPTURE(position);
      const std::vector<float> plain = run_chain(c, kernels::DeviceInfo(current.properties(), false), position);
      kt::require_nonzero(plain);
      CHECK(same_bits(run_chain(c, kernels::DeviceInfo(current.properties(), true), position), plain));
    }
  }
}
