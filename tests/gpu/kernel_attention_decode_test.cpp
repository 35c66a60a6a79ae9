// kernels::attention_decode (split-K decode attention over an f16 KV cache)
// against a CPU reference that reads the same f16-rounded K and V and
// computes as src/cpu/reference_model.cpp does (f32 dot, scale,
// cpu::softmax, weighted sum; GQA: head h reads KV head h / (n_heads /
// n_kv_heads)). Shapes: head_dim 64/128/256; GQA 1:1, 3:1, 4:1, 8:1 and 12:1
// (two head groups per KV head); live lengths 1, 7, 64, 65, 100, 256, 257,
// 1000, 4097 (split and tile boundaries), each with max_context equal to the
// live length and larger (8192, and 131072 for a few), so the split count
// changes. Rows past the live length stay poisoned (f16 NaN): reading one
// fails the test. Budget: normalised MSE < 1e-8 (f32 accumulation in another
// order; measured on an H100: at most 7e-12). One case captures the launch in a CUDA graph once
// and replays it at several positions written to device memory. Sliding-window
// layers (shape.window): the rows before the window are poisoned too, so
// reading one fails the test. attention_decode_batch (several query tokens,
// each of its own sequence, one launch pair): each token's output is the one
// a lone attention_decode over its sequence's cache gives, bit for bit.
// attention_decode_direct (one launch, a block per query head over every
// row): the same reference and budget, the same poisoned rows, and the split
// kernel and merge's output within it (not bit for bit: its blocks have
// twice the lane groups, so the partial sums meet in another order).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <vector>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/core/error.hpp>
#include <pagoda/cpu/ops.hpp>
#include <pagoda/kernels/attention_decode.cuh>
#include <pagoda/quant/half.hpp>

#include "gpu/kernel_support.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

namespace {

// A layer's cache: live rows of random K and V, as f16 bits and as the f32 values they hold.
struct Cache {
  std::vector<std::uint16_t> k_bits, v_bits;
  std::vector<float> k, v;
};

Cache random_cache(std::size_t live, std::size_t kv_dim, std::mt19937& rng) {
  Cache cache;
  for (auto* pair : {&cache.k, &cache.v}) *pair = kt::random_normal(live * kv_dim, rng);
  cache.k_bits.resize(live * kv_dim);
  cache.v_bits.resize(live * kv_dim);
  for (std::size_t i = 0; i < live * kv_dim; ++i) {
    cache.k_bits[i] = quant::f32_to_f16(cache.k[i]).bits;
    cache.v_bits[i] = quant::f32_to_f16(cache.v[i]).bits;
    cache.k[i] = quant::f16_to_f32({cache.k_bits[i]});
    cache.v[i] = quant::f16_to_f32({cache.v_bits[i]});
  }
  return cache;
}

std::vector<float> reference(const std::vector<float>& q, const Cache& cache, const kernels::AttentionShape& shape,
                             std::size_t live) {
  const std::size_t kv_dim = std::size_t{shape.n_kv_heads} * shape.head_dim;
  const std::size_t group = shape.n_heads / shape.n_kv_heads;
  std::vector<float> out(std::size_t{shape.n_heads} * shape.head_dim, 0.0f);
  const std::size_t first = shape.window != 0 && live > shape.window ? live - shape.window : 0;
  std::vector<float> scores(live - first);
  for (std::size_t h = 0; h < shape.n_heads; ++h) {
    const std::size_t kv_head = h / group;
    const float* query = q.data() + h * shape.head_dim;
    for (std::size_t p = first; p < live; ++p) {
      const float* key = cache.k.data() + p * kv_dim + kv_head * shape.head_dim;
      float dot = 0.0f;
      for (std::size_t i = 0; i < shape.head_dim; ++i) dot += query[i] * key[i];
      scores[p - first] = dot * shape.scale;
    }
    cpu::softmax(scores);
    float* result = out.data() + h * shape.head_dim;
    for (std::size_t p = first; p < live; ++p) {
      const float score = scores[p - first];
      const float* value = cache.v.data() + p * kv_dim + kv_head * shape.head_dim;
      for (std::size_t i = 0; i < shape.head_dim; ++i) result[i] += score * value[i];
    }
  }
  return out;
}

// The cache's rows before `first` as f16 NaN: a kernel that reads them yields NaN.
Cache poison_rows_before(Cache cache, std::size_t first, std::size_t kv_dim) {
  std::fill_n(cache.k_bits.begin(), first * kv_dim, std::uint16_t{0x7E00});
  std::fill_n(cache.v_bits.begin(), first * kv_dim, std::uint16_t{0x7E00});
  return cache;
}

struct DeviceCase {
  const kernels::DeviceInfo device_info = kernels::DeviceInfo::current();
  kt::DeviceArray<std::uint16_t> k_cache, v_cache;
  kt::DeviceArray<float> q, out;
  kt::DeviceArray<std::int32_t> position;
  kt::DeviceArray<std::byte> workspace;

  DeviceCase(const kernels::AttentionShape& shape, const Cache& cache, const std::vector<float>& query)
      : k_cache(std::size_t{shape.max_context} * shape.n_kv_heads * shape.head_dim),
        v_cache(std::size_t{shape.max_context} * shape.n_kv_heads * shape.head_dim),
        q(std::span<const float>(query)),
        out(std::size_t{shape.n_heads} * shape.head_dim),
        position(1),
        workspace(kernels::attention_decode_workspace_bytes(shape, device_info)) {
    k_cache.upload(cache.k_bits);  // the live rows; the rest stay NaN
    v_cache.upload(cache.v_bits);
  }
  void set_position(std::int32_t p) { position.upload(std::span<const std::int32_t>(&p, 1)); }
  void run(const kernels::AttentionShape& shape, cudaStream_t stream) {
    kernels::attention_decode(q.get(), reinterpret_cast<const __half*>(k_cache.get()),
                              reinterpret_cast<const __half*>(v_cache.get()), out.get(), shape, position.get(),
                              workspace.get(), device_info, stream);
  }
  void run_direct(const kernels::AttentionShape& shape, cudaStream_t stream) {
    kernels::attention_decode_direct(q.get(), reinterpret_cast<const __half*>(k_cache.get()),
                                     reinterpret_cast<const __half*>(v_cache.get()), out.get(), shape,
                                     position.get(), device_info, stream);
  }
};

struct Heads {
  std::uint32_t n_heads, n_kv_heads;
};

// `launch` (one of DeviceCase's runs) captured once in a CUDA graph at
// position 0, then replayed at each live length written to device memory:
// every replay matches the reference at its length.
template <class Launch>
void check_graph_replays(const kernels::AttentionShape& shape, std::uint32_t seed,
                         std::initializer_list<std::uint32_t> lives, Launch&& launch) {
  std::mt19937 rng(seed);
  kt::Stream stream;
  const Cache cache = random_cache(shape.max_context, std::size_t{shape.n_kv_heads} * shape.head_dim, rng);
  const std::vector<float> q = kt::random_normal(std::size_t{shape.n_heads} * shape.head_dim, rng, 2.0f);
  DeviceCase device(shape, cache, q);
  device.set_position(0);
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  kt::cuda_ok(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "begin capture");
  launch(device, shape, static_cast<cudaStream_t>(stream));
  kt::cuda_ok(cudaStreamEndCapture(stream, &graph), "end capture");
  kt::cuda_ok(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
  for (const std::uint32_t live : lives) {
    CAPTURE(live);
    device.set_position(static_cast<std::int32_t>(live - 1));
    device.out.poison();
    kt::cuda_ok(cudaGraphLaunch(exec, stream), "graph launch");
    stream.sync();
    CHECK(kt::normalized_mse(device.out.download(), reference(q, cache, shape, live)) < kt::nmse_attention);
  }
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
}


}  // namespace

TEST_CASE("kernel attention_decode matches the reference over GQA shapes, live lengths and context sizes") {
  std::mt19937 rng(777);
  kt::Stream stream;
  for (const std::uint32_t head_dim : {64u, 128u, 256u})
    for (const Heads heads : {Heads{4, 4}, Heads{9, 3}, Heads{8, 2}, Heads{16, 2}, Heads{12, 1}})
      for (const std::uint32_t live : {1u, 7u, 64u, 65u, 100u, 256u, 257u, 1000u, 4097u})
        for (const std::uint32_t context : {live, 8192u, 131072u}) {
          // The largest context for a few cases only: it is the split count that changes.
          if (context == 131072u && !(live == 4097u || live == 1u)) continue;
          CAPTURE(head_dim);
          CAPTURE(heads.n_heads);
          CAPTURE(heads.n_kv_heads);
          CAPTURE(live);
          CAPTURE(context);
          const kernels::AttentionShape shape{heads.n_heads, heads.n_kv_heads, head_dim, context,
                                              1.0f / std::sqrt(static_cast<float>(head_dim))};
          const Cache cache = random_cache(live, std::size_t{heads.n_kv_heads} * head_dim, rng);
          // Sharper softmax for some: large scores exercise the running max.
          const float sigma = live % 2 == 0 ? 4.0f : 1.0f;
          const std::vector<float> q = kt::random_normal(std::size_t{heads.n_heads} * head_dim, rng, sigma);
          const std::vector<float> want = reference(q, cache, shape, live);
          kt::require_nonzero(want);

          DeviceCase device(shape, cache, q);
          device.set_position(static_cast<std::int32_t>(live - 1));
          device.run(shape, stream);
          const double error = kt::normalized_mse(device.out.download(), want);
          CAPTURE(error);
          CHECK(error < kt::nmse_attention);
        }
}

TEST_CASE("kernel attention_decode on a sliding-window layer reads only the last `window` rows") {
  std::mt19937 rng(779);
  kt::Stream stream;
  for (const std::uint32_t head_dim : {128u, 256u})
    for (const Heads heads : {Heads{4, 1}, Heads{9, 3}})
      for (const std::uint32_t window : {1u, 7u, 64u, 512u})
        for (const std::uint32_t live : {1u, 100u, 513u, 1000u, 4097u}) {
          CAPTURE(head_dim);
          CAPTURE(heads.n_heads);
          CAPTURE(window);
          CAPTURE(live);
          const kernels::AttentionShape shape{heads.n_heads, heads.n_kv_heads, head_dim, 8192,
                                              1.0f / std::sqrt(static_cast<float>(head_dim)), window};
          const std::size_t kv_dim = std::size_t{heads.n_kv_heads} * head_dim;
          const Cache cache = random_cache(live, kv_dim, rng);
          const std::vector<float> q = kt::random_normal(std::size_t{heads.n_heads} * head_dim, rng, 2.0f);
          const std::vector<float> want = reference(q, cache, shape, live);
          kt::require_nonzero(want);
          DeviceCase device(shape, poison_rows_before(cache, live > window ? live - window : 0, kv_dim), q);
          device.set_position(static_cast<std::int32_t>(live - 1));
          device.run(shape, stream);
          const double error = kt::normalized_mse(device.out.download(), want);
          CAPTURE(error);
          CHECK(error < kt::nmse_attention);
        }
}

TEST_CASE("kernel attention_decode captured once in a CUDA graph replays at every position") {
  check_graph_replays({8, 2, 128, 4096, 1.0f / std::sqrt(128.0f)}, 778, {1u, 2u, 64u, 65u, 300u, 2049u, 4096u},
                      [](DeviceCase& device, const kernels::AttentionShape& shape, cudaStream_t stream) {
                        device.run(shape, stream);
                      });
}

TEST_CASE("kernel attention_decode_batch: each query token attends to its own sequence's cache, as a lone "
          "attention_decode does (bit for bit for a batch of one, whose splits are the same)") {
  std::mt19937 rng(4242);
  for (const std::uint32_t window : {0u, 256u}) {
    CAPTURE(window);
    const kernels::AttentionShape shape{32, 8, 128, 2048, 1.0f / std::sqrt(128.0f), window};
    const std::size_t kv_dim = std::size_t{shape.n_kv_heads} * shape.head_dim;
    const std::size_t stride = std::size_t{shape.max_context} * kv_dim;  // one sequence's cache
    const std::vector<std::size_t> live = {100, 700, 1500};               // several splits each past the first
    const std::vector<std::int32_t> sequences = {2, 0, 1};                // token b attends to sequence sequences[b]
    const auto device_info = kernels::DeviceInfo::current();
    // Three sequences back to back; rows past each one's live length stay NaN.
    kt::DeviceArray<std::uint16_t> k_cache(3 * stride), v_cache(3 * stride);
    std::vector<Cache> caches;
    for (std::size_t s = 0; s < 3; ++s) {
      caches.push_back(random_cache(live[s], kv_dim, rng));
      kt::cuda_ok(cudaMemcpy(k_cache.get() + s * stride, caches[s].k_bits.data(), live[s] * kv_dim * 2,
                             cudaMemcpyHostToDevice),
                  "upload K");
      kt::cuda_ok(cudaMemcpy(v_cache.get() + s * stride, caches[s].v_bits.data(), live[s] * kv_dim * 2,
                             cudaMemcpyHostToDevice),
                  "upload V");
    }
    const std::size_t q_size = std::size_t{shape.n_heads} * shape.head_dim;
    const std::vector<float> q = kt::random_normal(3 * q_size, rng, 2.0f);
    std::vector<std::int32_t> positions;
    for (const std::int32_t s : sequences) positions.push_back(static_cast<std::int32_t>(live[s] - 1));
    const kt::DeviceArray<float> device_q{std::span<const float>(q)};
    const kt::DeviceArray<std::int32_t> device_positions{std::span<const std::int32_t>(positions)};
    const kt::DeviceArray<std::int32_t> device_sequences{std::span<const std::int32_t>(sequences)};
    kt::DeviceArray<float> out(3 * q_size);
    kt::DeviceArray<std::byte> workspace(kernels::attention_decode_workspace_bytes(shape, device_info, 3));
    const auto* k = reinterpret_cast<const __half*>(k_cache.get());
    const auto* v = reinterpret_cast<const __half*>(v_cache.get());
    kernels::attention_decode_batch(device_q.get(), k, v, out.get(), shape, 3, device_positions.get(),
                                    device_sequences.get(), workspace.get(), device_info, nullptr);
    kt::cuda_ok(cudaDeviceSynchronize(), "attention_decode_batch");
    const std::vector<float> batched = out.download();
    // The f16 output is the f32 one rounded to nearest, bit for bit (the batched step's output projection input).
    kt::DeviceArray<std::uint16_t> out16(3 * q_size);
    kernels::attention_decode_batch(device_q.get(), k, v, reinterpret_cast<__half*>(out16.get()), shape, 3,
                                    device_positions.get(), device_sequences.get(), workspace.get(), device_info,
                                    nullptr);
    kt::cuda_ok(cudaDeviceSynchronize(), "attention_decode_batch into f16");
    const std::vector<std::uint16_t> batched16 = out16.download();
    std::size_t rounded_alike = 0;
    for (std::size_t i = 0; i < batched.size(); ++i) rounded_alike += quant::f32_to_f16(batched[i]).bits == batched16[i];
    CHECK(rounded_alike == batched.size());

    for (std::size_t b = 0; b < 3; ++b) {
      CAPTURE(b);
      const auto s = static_cast<std::size_t>(sequences[b]);
      kt::DeviceArray<float> alone(q_size);
      kt::DeviceArray<std::byte> alone_workspace(kernels::attention_decode_workspace_bytes(shape, device_info));
      kernels::attention_decode(device_q.get() + b * q_size, k + s * stride, v + s * stride, alone.get(), shape,
                                device_positions.get() + b, alone_workspace.get(), device_info, nullptr);
      kt::cuda_ok(cudaDeviceSynchronize(), "attention_decode");
      const std::vector<float> want = alone.download();
      const std::vector<float> got(batched.begin() + static_cast<std::ptrdiff_t>(b * q_size),
                                   batched.begin() + static_cast<std::ptrdiff_t>((b + 1) * q_size));
      // Three tokens share the grid (11 splits each, not 32): the sums run in another order.
      CHECK(kt::normalized_mse(got, want) < kt::nmse_attention);
      kt::DeviceArray<float> one(q_size);
      kernels::attention_decode_batch(device_q.get() + b * q_size, k, v, one.get(), shape, 1,
                                      device_positions.get() + b, device_sequences.get() + b, alone_workspace.get(),
                                      device_info, nullptr);
      kt::cuda_ok(cudaDeviceSynchronize(), "attention_decode_batch of one");
      const std::vector<float> one_out = one.download();
      CHECK(std::memcmp(one_out.data(), want.data(), q_size * sizeof(float)) == 0);
      const std::vector<float> query(q.begin() + static_cast<std::ptrdiff_t>(b * q_size),
                                     q.begin() + static_cast<std::ptrdiff_t>((b + 1) * q_size));
      CHECK(kt::normalized_mse(got, reference(query, caches[s], shape, live[s])) < kt::nmse_attention);
    }
  }
}

TEST_CASE("kernel attention_decode_direct matches the reference and the split kernel and merge") {
  std::mt19937 rng(780);
  kt::Stream stream;
  for (const std::uint32_t head_dim : {64u, 128u, 256u})
    for (const Heads heads : {Heads{4, 4}, Heads{9, 3}, Heads{32, 8}, Heads{12, 1}})
      for (const std::uint32_t live : {1u, 7u, 63u, 64u, 65u, 128u, 129u, 256u, 1000u})
        for (const std::uint32_t window : {0u, 7u, 100u}) {
          CAPTURE(head_dim);
          CAPTURE(heads.n_heads);
          CAPTURE(heads.n_kv_heads);
          CAPTURE(live);
          CAPTURE(window);
          const kernels::AttentionShape shape{heads.n_heads, heads.n_kv_heads, head_dim, 2048,
                                              1.0f / std::sqrt(static_cast<float>(head_dim)), window};
          const std::size_t kv_dim = std::size_t{heads.n_kv_heads} * head_dim;
          const Cache cache = random_cache(live, kv_dim, rng);
          const float sigma = live % 2 == 0 ? 4.0f : 1.0f;
          const std::vector<float> q = kt::random_normal(std::size_t{heads.n_heads} * head_dim, rng, sigma);
          const std::vector<float> want = reference(q, cache, shape, live);
          kt::require_nonzero(want);
          const std::size_t first = window != 0 && live > window ? live - window : 0;
          DeviceCase device(shape, poison_rows_before(cache, first, kv_dim), q);
          device.set_position(static_cast<std::int32_t>(live - 1));
          device.out.poison();
          device.run_direct(shape, stream);
          stream.sync();
          const std::vector<float> direct = device.out.download();
          const double error = kt::normalized_mse(direct, want);
          CAPTURE(error);
          CHECK(error < kt::nmse_attention);
          device.out.poison();
          device.run(shape, stream);
          stream.sync();
          CHECK(kt::normalized_mse(direct, device.out.download()) < kt::nmse_attention);
        }
}

TEST_CASE("kernel attention_decode_direct captured once in a CUDA graph replays at every position") {
  check_graph_replays({32, 8, 128, 512, 1.0f / std::sqrt(128.0f)}, 781, {1u, 2u, 64u, 65u, 128u, 300u, 512u},
                      [](DeviceCase& device, const kernels::AttentionShape& shape, cudaStream_t stream) {
                        device.run_direct(shape, stream);
                      });
}

TEST_CASE("kernel attention_decode refuses shapes it cannot run") {
  const auto device_info = kernels::DeviceInfo::current();
  CHECK_THROWS_WITH_AS((void)kernels::attention_decode_workspace_bytes({6, 4, 64, 128, 1.0f}, device_info),
                       doctest::Contains("n_kv_heads"), Error);
  CHECK_THROWS_WITH_AS((void)kernels::attention_decode_workspace_bytes({4, 4, 320, 128, 1.0f}, device_info),
                       doctest::Contains("head_dim"), Error);
  CHECK_THROWS_WITH_AS((void)kernels::attention_decode_workspace_bytes({4, 4, 60, 128, 1.0f}, device_info),
                       doctest::Contains("head_dim"), Error);
}
