// The shared-memory staging of matmul_q: one stage is a (tokens_tile, k_tile)
// tile of X and a (rows_tile, k_tile) tile of W, both f16, rows k_stride
// halves apart. Each thread owns whole 8-element pieces (one 16-byte shared
// store each). Staging is split in two so the kernel can hide global latency
// behind its MMAs: load_*() issues the global loads of the next step into
// registers (XRegs: f32 activations; WRegs: tile_dequant's Raw bytes), and
// store_*() later converts / decodes them into the other stage. Pieces outside
// the matrix (tokens >= tokens, rows >= rows, k >= cols) are zeros, so the
// ragged edges and the K tail multiply as zeros on both sides and no NaN from
// an unread neighbour leaks in.
//
// Bytes moved per stage: tokens_tile * k_tile * 4 of X (f32, reused by every
// weight row of the block) and rows_tile * k_tile * bits/8 of W.
// Device-only: nvcc.
#pragma once

#if defined(__CUDACC__)

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>

#include <pagoda/kernels/tile_dequant.cuh>
#include <pagoda/kernels/tuning/matmul_q.hpp>
#include <pagoda/quant/layout.hpp>

namespace pagoda::kernels::tile_detail {

// Eight f32 -> eight f16 (round to nearest even), packed for one 16-byte store.
__device__ __forceinline__ uint4 pack_halves(const float (&v)[8]) {
  const __half2 h0 = __floats2half2_rn(v[0], v[1]);
  const __half2 h1 = __floats2half2_rn(v[2], v[3]);
  const __half2 h2 = __floats2half2_rn(v[4], v[5]);
  const __half2 h3 = __floats2half2_rn(v[6], v[7]);
  return make_uint4(*reinterpret_cast<const unsigned*>(&h0), *reinterpret_cast<const unsigned*>(&h1),
                    *reinterpret_cast<const unsigned*>(&h2), *reinterpret_cast<const unsigned*>(&h3));
}

// What one block reads: W as `rows` rows of row_bytes, X as (tokens, cols) f32.
struct MatmulOperands {
  const std::byte* weights;
  std::size_t row_bytes;
  int rows;
  int cols;
  const float* x;
  int tokens;
  bool x_vec4;  // x 16-byte aligned and cols % 4 == 0: X pieces load as two float4
};

// Piece i of this thread: (row of the tile, first element of the piece in the tile).
template <MatmulPolicy P>
__device__ __forceinline__ int piece_row(int i) {
  return (static_cast<int>(threadIdx.x) + i * P.threads()) / (P.k_tile / 8);
}
template <MatmulPolicy P>
__device__ __forceinline__ int piece_k(int i) {
  return 8 * ((static_cast<int>(threadIdx.x) + i * P.threads()) % (P.k_tile / 8));
}

template <MatmulPolicy P>
struct XRegs {
  static constexpr int pieces = P.tokens_tile * P.k_tile / 8 / P.threads();
  float v[pieces][8];
};

template <quant::QuantFormat F, MatmulPolicy P>
struct WRegs {
  static constexpr int pieces = P.rows_tile * P.k_tile / 8 / P.threads();
  typename TileDequant<F>::Raw raw[pieces];
  bool valid[pieces];
};

// X tile of tokens tok0.., elements k0.. -> registers.
template <MatmulPolicy P>
__device__ __forceinline__ void load_x(const MatmulOperands& op, int tok0, int k0, XRegs<P>& regs) {
#pragma unroll
  for (int i = 0; i < XRegs<P>::pieces; ++i) {
    const int token = tok0 + piece_row<P>(i);
    const int k = k0 + piece_k<P>(i);
    float* v = regs.v[i];
    if (token < op.tokens && k < op.cols) {
      const float* src = op.x + static_cast<std::size_t>(token) * static_cast<std::size_t>(op.cols) + k;
      if (op.x_vec4 && k + 8 <= op.cols) {
        const float4 lo = __ldg(reinterpret_cast<const float4*>(src));
        const float4 hi = __ldg(reinterpret_cast<const float4*>(src) + 1);
        v[0] = lo.x, v[1] = lo.y, v[2] = lo.z, v[3] = lo.w;
        v[4] = hi.x, v[5] = hi.y, v[6] = hi.z, v[7] = hi.w;
      } else {
#pragma unroll
        for (int e = 0; e < 8; ++e) v[e] = k + e < op.cols ? __ldg(src + e) : 0.0f;
      }
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e) v[e] = 0.0f;
    }
  }
}

// Registers -> a_tile (tokens_tile, k_stride) as f16.
template <MatmulPolicy P>
__device__ __forceinline__ void store_x(const XRegs<P>& regs, __half* a_tile) {
#pragma unroll
  for (int i = 0; i < XRegs<P>::pieces; ++i)
    *reinterpret_cast<uint4*>(a_tile + piece_row<P>(i) * P.k_stride() + piece_k<P>(i)) = pack_halves(regs.v[i]);
}

// Where each of a thread's W pieces starts: its row's bytes in the GGUF layout
// (one multiply away, recomputed each step), or its row's stream pointers in
// field streams (computed once, before the k loop: a piece keeps its row).
template <quant::QuantFormat F, MatmulPolicy P, quant::WeightLayout L>
struct WRows {
  __device__ __forceinline__ WRows(const MatmulOperands&, int) {}
};
template <quant::QuantFormat F, MatmulPolicy P>
struct WRows<F, P, quant::WeightLayout::field_streams> {
  quant::FieldStreamRow<F> row[WRegs<F, P>::pieces];
  __device__ __forceinline__ WRows(const MatmulOperands& op, int row0) {
#pragma unroll
    for (int i = 0; i < WRegs<F, P>::pieces; ++i) {
      const int r = row0 + piece_row<P>(i);
      row[i] = quant::field_stream_row<F>(op.weights, static_cast<std::size_t>(op.rows),
                                          static_cast<std::size_t>(op.cols),
                                          static_cast<std::size_t>(r < op.rows ? r : op.rows - 1));
    }
  }
};

// W tile of rows row0.., elements k0.. -> registers (the raw bytes each piece
// needs), in the GGUF layout or in field streams: the same bytes either way,
// found at other addresses.
template <quant::QuantFormat F, MatmulPolicy P, quant::WeightLayout L>
__device__ __forceinline__ void load_w(const MatmulOperands& op, const WRows<F, P, L>& rows, int row0, int k0,
                                       WRegs<F, P>& regs) {
#pragma unroll
  for (int i = 0; i < WRegs<F, P>::pieces; ++i) {
    const int row = row0 + piece_row<P>(i);
    const int k = k0 + piece_k<P>(i);
    regs.valid[i] = row < op.rows && k < op.cols;
    if (!regs.valid[i]) continue;
    if constexpr (L == quant::WeightLayout::field_streams)
      regs.raw[i] = TileDequant<F>::load_from(rows.row[i], k);
    else
      regs.raw[i] = TileDequant<F>::load(op.weights + static_cast<std::size_t>(row) * op.row_bytes, k, op.cols);
  }
}

// Registers -> b_tile (rows_tile, k_stride) as f16, decoded.
template <quant::QuantFormat F, MatmulPolicy P>
__device__ __forceinline__ void store_w(const WRegs<F, P>& regs, int k0, __half* b_tile) {
#pragma unroll
  for (int i = 0; i < WRegs<F, P>::pieces; ++i) {
    const int k = k0 + piece_k<P>(i);
    uint4 packed = make_uint4(0u, 0u, 0u, 0u);
    if (regs.valid[i]) {
      if constexpr (requires { TileDequant<F>::decode_halves(regs.raw[i], k); }) {
        packed = TileDequant<F>::decode_halves(regs.raw[i], k);
      } else {
        float v[8];
        TileDequant<F>::decode(regs.raw[i], k, v);
        packed = pack_halves(v);
      }
    }
    *reinterpret_cast<uint4*>(b_tile + piece_row<P>(i) * P.k_stride() + piece_k<P>(i)) = packed;
  }
}

}  // namespace pagoda::kernels::tile_detail

#endif  // __CUDACC__
