// kernels::matmul_wgmma_streams<F>: the prefill projection on Hopper's
// warpgroup MMA (wgmma, sm_90a), over the field-streams layout. The same
// products as matmul_mma_streams (matmul_mma_streams.cuh: up to three
// matrices of one format sharing X, residuals added), which hands them here
// on a device and build that have wgmma (DeviceInfo::wgmma).
//
// Why: on mma.sync a warp decodes a weight fragment for 64 tokens and loads X
// fragments with ldmatrix; both cost issue slots the tensor cores wait on
// (~264 TFLOP/s at M = 512 on the 8B projections). wgmma computes
// Y^T = W X^T with W as A from registers, decoded as before (one warp, 16
// rows, the mma.sync A-fragment layout), and X as B straight from the
// swizzled shared-memory stage through a descriptor: no ldmatrix, and a
// decoded fragment serves the tile's 64 or 128 tokens in one instruction
// that runs asynchronously while the warp decodes or other warpgroups issue.
//
// Pipeline: the stage loader and layout of mma_stage.cuh (cp.async, 3 or 4
// stages of 64 elements of K), each stage at a multiple of 1024 bytes so
// that the X rows sit in the 128-byte-swizzle layout wgmma reads. Per stage
// a warp decodes its four k16 A fragments, the warpgroup issues four wgmmas
// and waits for them before the next stage's barrier frees the slot.
//
// Host code compiled by g++ may include this header for the declarations;
// the instantiations are generated per format of quant::field_stream_formats
// from cuda/templates/matmul_wgmma_streams_format.cu.in.
#pragma once

#include <cstddef>
#include <span>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/core/type_list.hpp>
#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/matmul_target.hpp>
#include <pagoda/kernels/tuning/matmul_wgmma.hpp>
#include <pagoda/model/architecture.hpp>
#include <pagoda/quant/format.hpp>

namespace pagoda::kernels {

// Whether pagoda_cuda holds wgmma code: CMAKE_CUDA_ARCHITECTURES listed 90a
// (wgmma exists only in the sm_90a target; cuda/kernels/matmul_wgmma.cu).
[[nodiscard]] bool wgmma_built();

// Asynchronous on `stream`; the preconditions of matmul_mma_streams, and
// device.wgmma() (compute capability 9.0 exactly and wgmma_built(): sm_90a
// code runs nowhere else). The tile policy is select_wgmma_policy's unless
// `forced` names one of wgmma_policies.
template <quant::QuantFormat F>
void matmul_wgmma_streams(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x,
                          std::size_t tokens, const DeviceInfo& device, cudaStream_t stream,
                          const WgmmaPolicy* forced = nullptr);

// out[t][r] = act(gate x_t)[r] * (up x_t)[r], rounded to f16: the
// feed-forward block's gate and up projections and its gated activation in
// one launch, writing the down projection's input (bit for bit what
// matmul_wgmma_streams under a 128-token tile, then kernels::gated_activation
// into f16, write; neither f32 product reaches memory). gate and up: (rows,
// cols) of F in field streams, 16-byte aligned; x: (tokens, cols) f16; out:
// (tokens, rows). Preconditions as matmul_wgmma_streams'.
template <quant::QuantFormat F>
void matmul_wgmma_gated(const std::byte* gate, const std::byte* up, std::size_t rows, std::size_t cols,
                        const __half* x, std::size_t tokens, model::FfnActivation activation, __half* out,
                        const DeviceInfo& device, cudaStream_t stream);

}  // namespace pagoda::kernels

#if defined(__CUDACC__)

#include <string>

#include <pagoda/kernels/activation.cuh>
#include <pagoda/kernels/mma_fragments.cuh>
#include <pagoda/kernels/mma_stage.cuh>
#include <pagoda/kernels/mma_sync.cuh>
#include <pagoda/kernels/wgmma.cuh>

namespace pagoda::kernels {

namespace mma_detail {

// Stages of the wgmma kernel: whole multiples of 1024 bytes (the swizzle's
// alignment), as many (3 to 6) as let min_blocks_per_sm blocks fit an SM's
// 227 KB (plus 1 KB each to align the dynamic shared memory).
template <quant::QuantFormat F, WgmmaPolicy W>
struct WgmmaPipeline {
  static constexpr int pitch = (StageLayout<F, W.stage_tile()>::bytes + 1023) / 1024 * 1024;
  static constexpr bool fits(int n) { return W.min_blocks_per_sm * (n * pitch + 1024) <= 227 * 1024; }
  static constexpr int stages = fits(6) ? 6 : (fits(5) ? 5 : (fits(4) ? 4 : 3));
  static constexpr std::size_t shared_bytes = static_cast<std::size_t>(stages) * pitch + 1024;
};

}  // namespace mma_detail

namespace mma_detail {

// Gated mode's output (matmul_wgmma_gated): act(gate) * up, rounded to f16.
struct GatedOutput {
  __half* out;  // (tokens, rows)
  model::FfnActivation activation;
};

}  // namespace mma_detail

// The policy arrives as an index into wgmma_policies (as matmul_mma_kernel's).
// Gated: targets 0 and 1 are the gate and up projections; warpgroup 0 of a
// two-warpgroup block multiplies 64 rows of gate, warpgroup 1 the same rows
// of up, and the epilogue writes act(gate) * up for them (grid.x: tiles of 64 rows).
template <quant::QuantFormat F, int policy_index, bool Gated = false>
__global__ void __launch_bounds__(wgmma_policies[policy_index].threads(),
                                  wgmma_policies[policy_index].min_blocks_per_sm)
    matmul_wgmma_kernel(mma_detail::Targets targets, const __half* __restrict__ x, int tokens, int cols,
                        mma_detail::GatedOutput gated) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  constexpr WgmmaPolicy W = wgmma_policies[policy_index];
  static_assert(W.valid(), "matmul_wgmma_streams: inconsistent tile policy");
  constexpr MmaPolicy P = W.stage_tile();
  using Pipeline = mma_detail::WgmmaPipeline<F, W>;
  static_assert(!Gated || W.warpgroups == 2, "gated: one warpgroup for gate, one for up");
  using Loader = mma_detail::StageLoader<F, P, Gated>;
  using Fragments = mma::MmaFragments<F>;
  constexpr int N = W.tokens_tile;
  constexpr int stages = Pipeline::stages;
  constexpr int pitch = Pipeline::pitch;
  constexpr int parts = Loader::parts;

  extern __shared__ __align__(1024) unsigned char shared_memory[];
  // The dynamic allocation's start is not promised to be 1024-aligned: round up (the launch adds 1 KB).
  const std::uint32_t misalign = mma::shared_address(shared_memory) & 1023u;
  unsigned char* shared = shared_memory + ((1024u - misalign) & 1023u);

  const int tid = static_cast<int>(threadIdx.x);
  const int lane = tid % 32;
  const int warp = tid / 32;
  const int g = lane / 4;
  const int t = lane % 4;
  // Rows a_row and a_row + 8 of the tile: this lane's part of its warp's 16 rows of A (and of D).
  const int a_row = 16 * warp + g;  // warpgroup w's warps are 4w..4w+3: rows 64w + 16 (warp % 4) + g

  // Gated: the tile's rows are 64 of gate over the same 64 of up (field by
  // field from the parameter: see mma_detail::tile_target).
  const MatmulTarget up{targets.target[1].weights, targets.target[1].rows, targets.target[1].y,
                        targets.target[1].residual};
  const mma_detail::TileTarget tile =
      Gated ? mma_detail::TileTarget{{targets.target[0].weights, targets.target[0].rows, targets.target[0].y,
                                      targets.target[0].residual},
                                     static_cast<int>(blockIdx.x) * W.rows_tile() / 2}
            : mma_detail::tile_target(targets, static_cast<int>(blockIdx.x), W.rows_tile());
  const MatmulTarget& target = tile.target;
  const int rows = static_cast<int>(target.rows);
  const int tok0 = static_cast<int>(blockIdx.y) * N;
  const Loader loader(target, tile.row0, tok0, x, tokens, cols, tid, Gated ? &up : nullptr);

  float acc[N / 2];
#pragma unroll
  for (int i = 0; i < N / 2; ++i) acc[i] = 0.0f;

  const int k_steps = cols / mma::stage_k;
#pragma unroll
  for (int s = 0; s < stages - 1; ++s) {
    if (s < k_steps) loader.load(shared + s * pitch, s * mma::stage_k);
    mma::cp_async_commit();
  }
  for (int step = 0; step < k_steps; ++step) {
    mma::cp_async_wait<stages - 2>();
    wgmma::fence_proxy_async();  // this thread's cp.async bytes, visible to the tensor cores' reads
    __syncthreads();  // stage `step` landed for every thread; slot (step - 1) % stages is free
    const int next = step + stages - 1;
    if (next < k_steps) loader.load(shared + (next % stages) * pitch, next * mma::stage_k);
    mma::cp_async_commit();

    const int k0 = step * mma::stage_k;
    const unsigned char* base = shared + (step % stages) * pitch;
    // A of the stage's four k16 chunks: rows a_row (b[0]) and a_row + 8 (b[1]) decoded as
    // mma.sync B fragments, which are the halves of an A fragment.
    typename Fragments::Scales scales[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const std::uint8_t* f[parts];
      Loader::fields_of(base, a_row + 8 * h, f);
      scales[h] = Fragments::prepare(f, k0);
    }
    std::uint32_t a[4][4];
#pragma unroll
    for (int p = 0; p < 2; ++p) {
      std::uint32_t b[2][2][2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const std::uint8_t* f[parts];
        Loader::fields_of(base, a_row + 8 * h, f);
        Fragments::pair(f, scales[h], p, t, b[h]);
      }
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const int kc = Fragments::chunk(p, j);
        a[kc][0] = b[0][j][0];  // row g, k 2t..2t+1
        a[kc][1] = b[1][j][0];  // row g + 8
        a[kc][2] = b[0][j][1];  // row g, k 2t+8..2t+9
        a[kc][3] = b[1][j][1];  // row g + 8
      }
    }
    wgmma::fence();
    wgmma::fence_registers(acc);
#pragma unroll
    for (int kc = 0; kc < 4; ++kc) wgmma::MmaRS<N>::run(acc, a[kc], wgmma::k_major_sw128(base + 32 * kc));
    wgmma::commit();
    wgmma::wait<0>();
    wgmma::fence_registers(acc);
  }
  mma::cp_async_wait<0>();

  // The epilogue visits this thread's outputs: d[4n + e] is row a_row + 8 (e / 2),
  // token 8n + 2t + e % 2 of the tile, at y's element `at`.
  const auto each_output = [&](auto&& store) {
#pragma unroll
    for (int n = 0; n < N / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int token = tok0 + 8 * n + 2 * t + e % 2;
        const int row = tile.row0 + a_row + 8 * (e / 2);
        if (token < tokens && row < rows)
          store(4 * n + e, static_cast<std::size_t>(token) * static_cast<std::size_t>(rows) +
                               static_cast<std::size_t>(row));
      }
  };
  if constexpr (Gated) {
    // Warpgroup 1 hands its up accumulators to warpgroup 0 through the
    // (drained) stages: thread i of warpgroup 1 holds the up values of the
    // rows and tokens thread i of warpgroup 0 holds gate values for.
    __syncthreads();  // every warp is done with the stages
    auto* const handed = reinterpret_cast<float*>(shared);  // [N / 2][128]: conflict-free by thread
    if (warp >= 4)
#pragma unroll
      for (int i = 0; i < N / 2; ++i) handed[i * 128 + (tid - 128)] = acc[i];
    __syncthreads();
    if (warp >= 4) return;
    each_output([&](int i, std::size_t at) {
      const float gate = acc[i];
      const float upv = handed[i * 128 + tid];
      // The activation kernel's operations, so the result is the unfused path's bit for bit.
      const float h = gated.activation == model::FfnActivation::gelu_tanh ? __fmul_rn(gelu_tanh(gate), upv)
                                                                           : __fmul_rn(silu(gate), upv);
      gated.out[at] = __float2half_rn(h);
    });
  } else {
    each_output([&](int i, std::size_t at) {
      target.y[at] = acc[i] + (target.residual != nullptr ? target.residual[at] : 0.0f);
    });
  }
#else
  (void)targets, (void)x, (void)tokens, (void)cols, (void)gated;
  __trap();  // launched only where DeviceInfo::wgmma: a build without sm_90a code never gets here
#endif
}

namespace mma_detail {

template <quant::QuantFormat F, int policy_index>
void launch_wgmma(const Targets& targets, int total_tiles, const __half* x, int tokens, int cols,
                  const DeviceInfo& device, cudaStream_t stream, const std::string& operation) {
  constexpr WgmmaPolicy W = wgmma_policies[policy_index];
  launch_tiles(matmul_wgmma_kernel<F, policy_index>, WgmmaPipeline<F, W>::shared_bytes, W.threads(), W.tokens_tile,
               targets, total_tiles, x, tokens, cols, device, stream, operation, GatedOutput{});
}

}  // namespace mma_detail

template <quant::QuantFormat F>
void matmul_wgmma_streams(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x,
                          std::size_t tokens, const DeviceInfo& device, cudaStream_t stream,
                          const WgmmaPolicy* forced) {
  const std::string operation = std::string("kernels::matmul_wgmma_streams<").append(F::name).append(">");
  mma_detail::Targets launch_targets{};
  const std::size_t rows_total = mma_detail::checked_targets<F>(operation, targets, cols, x, tokens, launch_targets);
  if (tokens == 0) return;
  require(device.wgmma(), operation,
          "a device of compute capability 9.0 and a build with sm_90a code (CMAKE_CUDA_ARCHITECTURES lists 90a)");
  const WgmmaPolicy policy =
      forced != nullptr ? *forced : select_wgmma_policy(tokens, rows_total, device.multiprocessors());
  visit_listed<wgmma_policies>(
      policy,
      [&](auto index) {
        constexpr int i = static_cast<int>(decltype(index)::value);
        const int tiles = mma_detail::count_tiles(launch_targets, wgmma_policies[i].rows_tile());
        mma_detail::launch_wgmma<F, i>(launch_targets, tiles, x, static_cast<int>(tokens), static_cast<int>(cols),
                                       device, stream, operation);
      },
      [&] { require(false, operation, "the tile policy is one of wgmma_policies"); });
}

template <quant::QuantFormat F>
void matmul_wgmma_gated(const std::byte* gate, const std::byte* up, std::size_t rows, std::size_t cols,
                        const __half* x, std::size_t tokens, model::FfnActivation activation, __half* out,
                        const DeviceInfo& device, cudaStream_t stream) {
  const std::string operation = std::string("kernels::matmul_wgmma_gated<").append(F::name).append(">");
  require(out != nullptr && reinterpret_cast<std::uintptr_t>(out) % 2 == 0, operation, "out is not null");
  const MatmulTarget pair[] = {{gate, rows, nullptr, nullptr}, {up, rows, nullptr, nullptr}};
  mma_detail::Targets launch_targets{};
  (void)mma_detail::checked_targets<F>(operation, std::span<const MatmulTarget>(pair), cols, x, tokens,
                                       launch_targets, /*outputs=*/false);
  if (tokens == 0) return;
  require(device.wgmma(), operation,
          "a device of compute capability 9.0 and a build with sm_90a code (CMAKE_CUDA_ARCHITECTURES lists 90a)");
  constexpr int wide = 0;  // wgmma_policies[0]: two warpgroups, 128 tokens
  static_assert(wgmma_policies[wide] == wgmma_policy_wide);
  constexpr WgmmaPolicy W = wgmma_policies[wide];
  const int row_tiles = static_cast<int>((rows + W.rows_tile() / 2 - 1) / (W.rows_tile() / 2));
  mma_detail::launch_tiles(matmul_wgmma_kernel<F, wide, true>, mma_detail::WgmmaPipeline<F, W>::shared_bytes,
                           W.threads(), W.tokens_tile, launch_targets, row_tiles, x, static_cast<int>(tokens),
                           static_cast<int>(cols), device, stream, operation,
                           mma_detail::GatedOutput{out, activation});
}

}  // namespace pagoda::kernels

#endif  // __CUDACC__

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::field_stream_formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/matmul_wgmma_streams_format.cu.in.
#include <pagoda/kernels/generated/matmul_wgmma_streams_externs.hpp>
