// kernels::matmul_mma_streams<F>: the prefill projection on tensor cores,
// reading weights in the field-streams layout (quant/field_streams.hpp).
//   Y_i[t][r] = dot(W_i row r, X[t]) (+ residual_i[t][r])   for up to three
// matrices W_i of the same format and cols sharing the input X (q, k and v;
// gate and up), in one launch.
// X: (tokens, cols) f16, 16-byte aligned (kernels::to_half makes it once per
// input); Y_i and residual_i: (tokens, rows_i) f32.
//
// Shape (tuning/matmul_mma.hpp): a block owns a tokens_tile x rows_tile tile
// of one Y_i and walks K in stages of 64 elements through a 3- or 4-deep
// cp.async pipeline in shared memory: X as f16 rows, XOR-swizzled by 16-byte
// chunk so that ldmatrix reads them without bank conflicts; W as the raw bytes
// of each field stream (mma_fragments.cuh: StagePart), padded per row. Warps
// load X fragments with ldmatrix.x4, decode W fragments from the raw bytes in
// registers (mma_fragments.cuh) and multiply with mma.sync m16n8k16 into f32
// accumulators; the epilogue adds the residual and stores float2 pairs.
//
// FLOPs: 2 * tokens * rows * cols. Bytes from L2: W once per token tile
// (ceil(tokens / tokens_tile) * rows * cols * bits / 8), X once per row tile
// (ceil(rows / rows_tile) * tokens * cols * 2). At 512 x 14336 x 4096 that is
// 60 GFLOP against ~0.6 GB of L2 reads and 33 MB of HBM: the tensor cores
// (~600 TFLOP/s for mma.sync f16 on an H100) and the decode of W in
// registers bound it, not memory.
//
// Host code compiled by g++ may include this header for the declarations; the
// instantiations are generated per format of quant::field_stream_formats from
// cuda/templates/matmul_mma_streams_format.cu.in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/core/type_list.hpp>
#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/tuning/matmul_mma.hpp>
#include <pagoda/quant/field_streams.hpp>
#include <pagoda/quant/format.hpp>

namespace pagoda::kernels {

// One product of a launch.
struct MatmulTarget {
  const std::byte* weights;  // (rows, cols) in the field-streams layout, 16-byte aligned
  std::size_t rows;
  float* y;                  // (tokens, rows)
  const float* residual;     // (tokens, rows) added to y, may equal y; or nullptr
};

inline constexpr std::size_t matmul_mma_max_targets = 3;

// Whether matmul_mma_streams<F> takes matrices of `cols`: whole 64-element
// stages, and every stream's entries of a row starting 4-byte aligned (each
// stage copies whole words), e.g. an even number of Q4_0 blocks or of Q6_K
// super-blocks per row. Otherwise the engine keeps matmul_q_streams.
template <quant::QuantFormat F>
constexpr bool matmul_mma_takes(std::size_t cols) {
  if constexpr (!quant::HasFieldStreams<F>) {
    return false;
  } else {
    if (cols == 0 || cols % 64 != 0 || cols % F::block_elements != 0) return false;
    const std::size_t blocks = cols / F::block_elements;
    for (const quant::FieldStream& s : quant::FieldStreams<F>::streams)
      if (blocks * s.bytes % 4 != 0) return false;
    return true;
  }
}

// Asynchronous on `stream`. The tile policy is select_mma_policy's unless
// `forced` names one of mma_policies (tests and pagoda-kernel-bench time each).
// Throws pagoda::Error on a violated precondition (naming the format) or a
// failed launch.
template <quant::QuantFormat F>
void matmul_mma_streams(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x, std::size_t tokens,
                        cudaStream_t stream, const MmaPolicy* forced = nullptr);

}  // namespace pagoda::kernels

#if defined(__CUDACC__)

#include <string>
#include <type_traits>
#include <utility>

#include <pagoda/kernels/mma_fragments.cuh>
#include <pagoda/kernels/mma_sync.cuh>

namespace pagoda::kernels {

namespace mma_detail {

struct Targets {
  MatmulTarget target[matmul_mma_max_targets];
  int count;
  int tiles_before[matmul_mma_max_targets + 1];  // row tiles of the targets before each
};

// Shared memory of one pipeline stage: X (tokens_tile rows of 128 bytes),
// then each stream part (rows_tile rows of its pitch).
template <quant::QuantFormat F, MmaPolicy P>
struct StageLayout {
  using Fragments = mma::MmaFragments<F>;
  static constexpr int parts = static_cast<int>(Fragments::parts.size());
  static constexpr int x_row_bytes = mma::stage_k * 2;
  static constexpr int x_bytes = P.tokens_tile * x_row_bytes;
  static constexpr int part_offset(int s) {
    int at = x_bytes;
    for (int i = 0; i < s; ++i) at += P.rows_tile * Fragments::parts[static_cast<std::size_t>(i)].pitch();
    return at;
  }
  static constexpr int bytes = part_offset(parts);
  // Four stages where two blocks still fit an SM's 228 KB, else three.
  static constexpr int stages = 4 * bytes <= 113 * 1024 ? 4 : 3;
  static constexpr std::size_t shared_bytes = static_cast<std::size_t>(stages) * bytes;
  // Copies per thread per stage of part s (ceil: the last round may be partial).
  static constexpr int part_rounds(int s) {
    const int items = P.rows_tile * Fragments::parts[static_cast<std::size_t>(s)].copies();
    return (items + P.threads() - 1) / P.threads();
  }
  static constexpr int max_part_rounds() {
    int most = 0;
    for (int s = 0; s < parts; ++s) most = part_rounds(s) > most ? part_rounds(s) : most;
    return most;
  }
  static constexpr int x_rounds = P.tokens_tile * 8 / P.threads();
};

// A 16-byte chunk c of X row `row` sits at chunk c ^ (row % 8): the eight rows
// an ldmatrix reads at once then hit eight different bank groups.
__device__ __forceinline__ int swizzled(int row, int chunk) { return row * 128 + ((chunk ^ (row & 7)) << 4); }

// fn(integral_constant<int, 0>) ... fn(integral_constant<int, N - 1>): the
// stream parts differ in type-level facts (copy size), so they unroll at compile time.
template <int N, class Fn>
__device__ __forceinline__ void static_for(Fn&& fn) {
  [&]<int... I>(std::integer_sequence<int, I...>) {
    (fn(std::integral_constant<int, I>{}), ...);
  }(std::make_integer_sequence<int, N>{});
}

}  // namespace mma_detail

// The policy arrives as an index into mma_policies (nvcc's host stubs cannot
// name a kernel with a class-type template argument).
template <quant::QuantFormat F, int policy_index>
__global__ void __launch_bounds__(mma_policies[policy_index].threads(), mma_policies[policy_index].min_blocks_per_sm)
    matmul_mma_kernel(mma_detail::Targets targets, const __half* __restrict__ x, int tokens, int cols) {
  constexpr MmaPolicy P = mma_policies[policy_index];
  static_assert(P.valid(), "matmul_mma_streams: inconsistent tile policy");
  using Layout = mma_detail::StageLayout<F, P>;
  using Fragments = mma::MmaFragments<F>;
  constexpr int MT = P.fragments_tokens();
  constexpr int NT = P.fragments_rows();
  constexpr int stages = Layout::stages;
  constexpr int parts = Layout::parts;

  extern __shared__ __align__(128) unsigned char shared[];
  const int tid = static_cast<int>(threadIdx.x);
  const int lane = tid % 32;
  const int warp = tid / 32;
  const int warp_t = warp / P.warps_rows;
  const int warp_r = warp % P.warps_rows;

  // The block's target and tile.
  const int tile = static_cast<int>(blockIdx.x);
  const int which = (targets.count > 1 && tile >= targets.tiles_before[1]) +
                    (targets.count > 2 && tile >= targets.tiles_before[2]);
  // Field by field, with constant indices: selecting a whole parameter struct
  // made the compiler load it through a generic pointer to parameter space,
  // which faulted on the H100 (reads at address 0x8: `rows` off a null base).
  const auto pick = [which](auto a, auto b, auto c) { return which == 0 ? a : (which == 1 ? b : c); };
  const auto& all = targets.target;
  const MatmulTarget target{pick(all[0].weights, all[1].weights, all[2].weights),
                            pick(all[0].rows, all[1].rows, all[2].rows), pick(all[0].y, all[1].y, all[2].y),
                            pick(all[0].residual, all[1].residual, all[2].residual)};
  const int rows = static_cast<int>(target.rows);
  // Constant indices only: a computed index into the parameter would copy it to local memory.
  const int tiles_before = which == 0 ? 0 : (which == 1 ? targets.tiles_before[1] : targets.tiles_before[2]);
  const int row0 = (tile - tiles_before) * P.rows_tile;
  const int tok0 = static_cast<int>(blockIdx.y) * P.tokens_tile;
  const auto* weights = reinterpret_cast<const std::uint8_t*>(target.weights);

  // What this thread copies in every stage. X: token rows tid / 8 + i * threads / 8, chunk tid % 8.
  const int x_token = tid / 8;
  const int x_chunk = tid % 8;
  const __half* x_src = x + static_cast<std::size_t>(tok0 + x_token) * static_cast<std::size_t>(cols) + 8 * x_chunk;
  const int x_dst = mma_detail::swizzled(x_token, x_chunk);
  constexpr int x_token_step = P.threads() / 8;  // a multiple of 8: the swizzle repeats
  // W: per part, the byte offset of the row's entries of its stream (or ~0 outside the tile).
  constexpr int max_rounds = Layout::max_part_rounds();
  std::uint32_t w_src[parts][max_rounds];
  mma_detail::static_for<parts>([&](auto part_index) {
    constexpr int s = decltype(part_index)::value;
    constexpr mma::StagePart part = Fragments::parts[s];
    constexpr int rounds = Layout::part_rounds(s);
#pragma unroll
    for (int i = 0; i < max_rounds; ++i) {
      const int item = tid + i * P.threads();
      const int row = row0 + item / part.copies();
      if (i < rounds && item < P.rows_tile * part.copies() && row < rows) {
        const quant::FieldStreamRow<F> streams =
            quant::field_stream_row<F>(target.weights, static_cast<std::size_t>(rows), static_cast<std::size_t>(cols),
                                       static_cast<std::size_t>(row));
        w_src[s][i] = static_cast<std::uint32_t>(streams.stream[part.stream] - weights) +
                      static_cast<std::uint32_t>(item % part.copies() * part.copy_bytes());
      } else {
        w_src[s][i] = ~0u;
      }
    }
  });

  const auto load_stage = [&](int slot, int k0) {
    unsigned char* base = shared + slot * Layout::bytes;
#pragma unroll
    for (int i = 0; i < Layout::x_rounds; ++i) {
      const bool valid = tok0 + x_token + i * x_token_step < tokens;
      const __half* src = valid ? x_src + static_cast<std::size_t>(i * x_token_step) * cols + k0 : x;
      mma::cp_async16(base + x_dst + i * x_token_step * 128, src, valid);
    }
    mma_detail::static_for<parts>([&](auto part_index) {
      // Every fact of the part as a compile-time constant (see StagePart::offset).
      constexpr int s = decltype(part_index)::value;
      constexpr mma::StagePart part = Fragments::parts[s];
      constexpr int rounds = Layout::part_rounds(s);
      constexpr int part_offset = Layout::part_offset(s);
      constexpr int copy_bytes = part.copy_bytes();
      constexpr std::size_t field_bytes = quant::FieldStreams<F>::streams[part.stream].bytes;
      const auto offset = static_cast<std::uint32_t>(part.offset(k0, static_cast<int>(F::block_elements), field_bytes));
#pragma unroll
      for (int i = 0; i < rounds; ++i) {
        const int item = tid + i * P.threads();
        if (item >= P.rows_tile * part.copies()) continue;  // a partial last round
        const bool valid = w_src[s][i] != ~0u;
        const std::uint8_t* src = valid ? weights + w_src[s][i] + offset : weights;
        unsigned char* dst = base + part_offset + item / part.copies() * part.pitch() + item % part.copies() * copy_bytes;
        if constexpr (copy_bytes == 16)
          mma::cp_async16(dst, src, valid);
        else
          mma::cp_async_small<copy_bytes>(dst, src, valid);
      }
    });
  };

  float acc[MT][NT][4];
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int n = 0; n < NT; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[m][n][e] = 0.0f;

  // ldmatrix: lane l addresses row l % 8 (+8 for lanes 8-15 and 24-31) of the
  // warp's m16 tile, 16-byte chunk 2 kc (+1 for lanes 16-31).
  const int a_row = warp_t * P.warp_tokens() + (lane & 7) + ((lane >> 3) & 1) * 8;
  const int a_half = lane >> 4;
  const int g = lane / 4;
  const int t = lane % 4;

  const int k_steps = cols / mma::stage_k;
#pragma unroll
  for (int s = 0; s < stages - 1; ++s) {
    if (s < k_steps) load_stage(s, s * mma::stage_k);
    mma::cp_async_commit();
  }
  for (int step = 0; step < k_steps; ++step) {
    mma::cp_async_wait<stages - 2>();
    __syncthreads();  // stage `step` landed for every thread; slot (step - 1) % stages is free
    const int next = step + stages - 1;
    if (next < k_steps) load_stage(next % stages, next * mma::stage_k);
    mma::cp_async_commit();

    const int k0 = step * mma::stage_k;
    const unsigned char* base = shared + (step % stages) * Layout::bytes;
    const auto fields_of = [&](int n, const std::uint8_t* (&f)[parts]) {
      const int row = warp_r * P.warp_rows() + n * 8 + g;
      mma_detail::static_for<parts>(
          [&](auto part_index) {
            constexpr int s = decltype(part_index)::value;
            constexpr int part_offset = Layout::part_offset(s);
            constexpr int pitch = Fragments::parts[s].pitch();
            f[s] = base + part_offset + row * pitch;
          });
    };
    typename Fragments::Scales scales[NT];
#pragma unroll
    for (int n = 0; n < NT; ++n) {
      const std::uint8_t* f[parts];
      fields_of(n, f);
      scales[n] = Fragments::prepare(f, k0);
    }
#pragma unroll
    for (int p = 0; p < 2; ++p) {
      std::uint32_t b[NT][2][2];
#pragma unroll
      for (int n = 0; n < NT; ++n) {
        const std::uint8_t* f[parts];
        fields_of(n, f);
        Fragments::pair(f, scales[n], p, t, b[n]);
      }
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const int kc = Fragments::chunk(p, j);
        std::uint32_t a[MT][4];
#pragma unroll
        for (int m = 0; m < MT; ++m)
          mma::ldmatrix_x4(a[m], base + mma_detail::swizzled(a_row + m * 16, 2 * kc + a_half));
#pragma unroll
        for (int m = 0; m < MT; ++m)
#pragma unroll
          for (int n = 0; n < NT; ++n) mma::mma_f16(acc[m][n], a[m], b[n][j]);
      }
    }
  }
  mma::cp_async_wait<0>();

  // Epilogue: lane (g, t) holds rows 2t, 2t + 1 of tokens g and g + 8 of each fragment.
  const bool pairs = rows % 2 == 0;  // then (token * rows + row) is even: float2 stores
#pragma unroll
  for (int m = 0; m < MT; ++m) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int token = tok0 + warp_t * P.warp_tokens() + m * 16 + g + 8 * h;
      if (token >= tokens) continue;
#pragma unroll
      for (int n = 0; n < NT; ++n) {
        const int row = row0 + warp_r * P.warp_rows() + n * 8 + 2 * t;
        const std::size_t at = static_cast<std::size_t>(token) * static_cast<std::size_t>(rows) + static_cast<std::size_t>(row);
        float v0 = acc[m][n][2 * h];
        float v1 = acc[m][n][2 * h + 1];
        if (pairs && row < rows) {
          if (target.residual != nullptr) {
            const float2 r = *reinterpret_cast<const float2*>(target.residual + at);
            v0 += r.x;
            v1 += r.y;
          }
          *reinterpret_cast<float2*>(target.y + at) = make_float2(v0, v1);
        } else {
          if (row < rows) target.y[at] = v0 + (target.residual != nullptr ? target.residual[at] : 0.0f);
          if (row + 1 < rows) target.y[at + 1] = v1 + (target.residual != nullptr ? target.residual[at + 1] : 0.0f);
        }
      }
    }
  }
}

namespace mma_detail {

template <quant::QuantFormat F, int policy_index>
void launch(const Targets& targets, int total_tiles, const __half* x, int tokens, int cols, cudaStream_t stream,
            const std::string& operation) {
  constexpr MmaPolicy P = mma_policies[policy_index];
  const auto kernel = matmul_mma_kernel<F, policy_index>;
  constexpr std::size_t smem = StageLayout<F, P>::shared_bytes;
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
             operation);
  const dim3 grid(static_cast<unsigned>(total_tiles),
                  static_cast<unsigned>((tokens + P.tokens_tile - 1) / P.tokens_tile));
  kernel<<<grid, P.threads(), smem, stream>>>(targets, x, tokens, cols);
  check_launch(operation);
}

// The targets' row tiles at `rows_tile` rows a tile: where each target's begin, and the total.
inline int count_tiles(Targets& targets, int rows_tile) {
  int tiles = 0;
  for (int i = 0; i <= static_cast<int>(matmul_mma_max_targets); ++i) {
    targets.tiles_before[i] = tiles;
    if (i < targets.count)
      tiles += static_cast<int>((targets.target[i].rows + static_cast<std::size_t>(rows_tile) - 1) /
                                static_cast<std::size_t>(rows_tile));
  }
  return tiles;
}

}  // namespace mma_detail

template <quant::QuantFormat F>
void matmul_mma_streams(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x, std::size_t tokens,
                        cudaStream_t stream, const MmaPolicy* forced) {
  const std::string operation = std::string("kernels::matmul_mma_streams<").append(F::name).append(">");
  constexpr std::size_t int_max = 0x7fffffff;
  require(!targets.empty() && targets.size() <= matmul_mma_max_targets, operation, "one to three targets");
  require(matmul_mma_takes<F>(cols), operation,
          "cols (" + std::to_string(cols) + ") is a multiple of 64 and of the block size, each stream's row entries 4-byte aligned");
  require(cols <= int_max && tokens <= 65535u * 32u, operation, "cols below 2^31 and tokens at most 2097120");
  require(reinterpret_cast<std::uintptr_t>(x) % 16 == 0, operation, "x is 16-byte aligned");
  if (tokens == 0) return;
  mma_detail::Targets launch_targets{};
  std::size_t rows_total = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const MatmulTarget& target = targets[i];
    require(target.rows > 0 && target.weights != nullptr && target.y != nullptr && x != nullptr, operation,
            "every target has rows, weights and y; x is not null");
    require(reinterpret_cast<std::uintptr_t>(target.weights) % 16 == 0, operation, "the weights are 16-byte aligned");
    require(target.rows * (cols / F::block_elements) * F::block_bytes < (std::size_t{1} << 32), operation,
            "each matrix below 4 GiB");
    launch_targets.target[i] = target;
    rows_total += target.rows;
  }
  launch_targets.count = static_cast<int>(targets.size());

  int device = 0;
  int multiprocessors = 0;
  check_cuda(cudaGetDevice(&device), operation);
  check_cuda(cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device), operation);
  const MmaPolicy policy = forced != nullptr ? *forced : select_mma_policy(tokens, rows_total, multiprocessors);
  visit_listed<mma_policies>(
      policy,
      [&](auto index) {
        constexpr int i = static_cast<int>(decltype(index)::value);
        const int tiles = mma_detail::count_tiles(launch_targets, mma_policies[i].rows_tile);
        mma_detail::launch<F, i>(launch_targets, tiles, x, static_cast<int>(tokens), static_cast<int>(cols), stream,
                                 operation);
      },
      [&] { require(false, operation, "the tile policy is one of mma_policies"); });
}

}  // namespace pagoda::kernels

#endif  // __CUDACC__

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::field_stream_formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/matmul_mma_streams_format.cu.in.
#include <pagoda/kernels/generated/matmul_mma_streams_externs.hpp>
