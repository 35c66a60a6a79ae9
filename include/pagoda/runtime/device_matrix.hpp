// A weight matrix the GPU can read, with the kernels for its format chosen
// once, at load (quant::visit_format in cuda/runtime/device_matrix.cpp): the hot path
// calls through these pointers and never looks at a format id again. Every
// launcher takes the engine's kernels::DeviceInfo (runtime::DeviceModel
// holds it) before its stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <cuda_runtime_api.h>

#include "pagoda/gguf/file.hpp"
#include "pagoda/kernels/device_info.hpp"
#include "pagoda/kernels/gemv_q_fused.cuh"
#include "pagoda/kernels/matmul_few_streams.cuh"
#include "pagoda/kernels/matmul_mma_streams.cuh"
#include "pagoda/kernels/rope_kv_append.cuh"
#include "pagoda/model/architecture.hpp"
#include "pagoda/quant/layout.hpp"

namespace pagoda::runtime {

using GemvLauncher = void (*)(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x,
                              float* y, const float* residual, const kernels::DeviceInfo& device, cudaStream_t stream);
using MatmulLauncher = void (*)(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x,
                                std::size_t tokens, float* y, const float* residual, const kernels::DeviceInfo& device,
                                cudaStream_t stream);
using MmaLauncher = void (*)(std::span<const kernels::MatmulTarget> targets, std::size_t cols, const __half* x,
                             std::size_t tokens, const kernels::DeviceInfo& device, cudaStream_t stream);

// Which GEMM multiplies a prompt by a matrix: the tile kernel (matmul_q,
// matmul_q_streams: f32 input), or one of the tensor-core GEMMs over field
// streams reading an f16 input (matmul_mma_streams on mma.sync, any GPU from
// sm_80; matmul_wgmma_streams on wgmma, compute capability 9.0 with sm_90a code).
enum class PrefillGemm { tile, mma_sync, wgmma };
[[nodiscard]] constexpr const char* name_of(PrefillGemm gemm) {
  return gemm == PrefillGemm::wgmma ? "wgmma" : (gemm == PrefillGemm::mma_sync ? "mma.sync" : "tile kernel");
}
// A batched decode step's product (kernels::matmul_few_streams): at most 16
// tokens, K split across blocks through the engine's workspace.
using FewLauncher = void (*)(std::span<const kernels::MatmulTarget> targets, std::size_t cols, const __half* x,
                             std::size_t tokens, const kernels::SplitWorkspace& workspace,
                             const kernels::DeviceInfo& device, cudaStream_t stream, int splits);
// Gate and up paired in the batched step's product, act(gate) * up in f16
// (kernels::matmul_few_streams_gated).
using FewGatedLauncher = void (*)(const std::byte* gate, const std::byte* up, std::size_t rows, std::size_t cols,
                                  const __half* x, std::size_t tokens, model::FfnActivation activation, __half* out,
                                  const kernels::SplitWorkspace& workspace, const kernels::DeviceInfo& device,
                                  cudaStream_t stream, int splits);
// q, k and v in the batched step's product with RoPE and the KV append after
// (kernels::matmul_few_streams_rope_kv).
using FewRopeKvLauncher = void (*)(std::span<const kernels::MatmulTarget> targets, std::size_t cols, const __half* x,
                                   std::size_t tokens, const kernels::RopeKvAppend& append,
                                   const kernels::SplitWorkspace& workspace, const kernels::DeviceInfo& device,
                                   cudaStream_t stream, int splits);
using GatedMmaLauncher = void (*)(const std::byte* gate, const std::byte* up, std::size_t rows, std::size_t cols,
                                  const __half* x, std::size_t tokens, model::FfnActivation activation, __half* out,
                                  const kernels::DeviceInfo& device, cudaStream_t stream);
using EmbeddingLauncher = void (*)(const std::byte* table, std::size_t dim, const std::int32_t* tokens,
                                   std::size_t count, float* out, cudaStream_t stream);
using FusedGemvLauncher = void (*)(std::span<const kernels::GemvTarget> targets, std::size_t cols, const float* x,
                                   kernels::RmsNormFirst norm, const kernels::DeviceInfo& device, cudaStream_t stream);
using RopeKvGemvLauncher = void (*)(std::span<const kernels::GemvTarget> targets, std::size_t cols, const float* x,
                                    kernels::RmsNormFirst norm, const kernels::RopeKvAppend& append,
                                    const kernels::DeviceInfo& device, cudaStream_t stream);
using RopeKvPairLauncher = void (*)(std::span<const kernels::GemvTarget> first,
                                    std::span<const kernels::GemvTarget> second, std::size_t cols, const float* x,
                                    kernels::RmsNormFirst norm, const kernels::RopeKvAppend& append,
                                    const kernels::DeviceInfo& device, cudaStream_t stream);
// A format's launch of q, k and v with a partner format (kernels::gemv_streams_pairs):
// `launch` takes this format's targets first, then those of the matrices whose
// rope_kv_gemv is `partner`.
struct RopeKvPair {
  RopeKvPairLauncher launch = nullptr;
  RopeKvGemvLauncher partner = nullptr;
};
using GatedGemvLauncher = void (*)(model::FfnActivation activation, const std::byte* gate, const std::byte* up,
                                   std::size_t rows, std::size_t cols, const float* x, kernels::RmsNormFirst norm,
                                   float* out, const kernels::DeviceInfo& device, cudaStream_t stream);

// The input of a decode step's fused products: x, RMS-normalised first with
// `norm` (inside the product where it can fuse, else into `normed` by
// kernels::rms_norm).
struct NormedVector {
  const float* x;
  kernels::RmsNormFirst norm;
  float* normed;  // (cols) scratch for the unfused path
};

// One output of DeviceMatrix::multiply_vectors.
struct VectorProduct {
  float* y;
  const float* residual;  // added to y (residual stream or bias), or nullptr
};

struct DeviceMatrix {
  const gguf::TensorInfo* info = nullptr;
  const std::byte* data = nullptr;  // device-visible: VRAM or registered host memory, per the policy
  std::size_t rows = 0;             // output features
  std::size_t cols = 0;             // input features (dims[0])
  GemvLauncher gemv = nullptr;
  MatmulLauncher matmul = nullptr;
  MmaLauncher matmul_mma = nullptr;  // the tensor-core GEMM (prefill_gemm), or null for the tile kernel
  PrefillGemm prefill_gemm = PrefillGemm::tile;
  // wgmma only: gate and up of one format and shape multiply a prompt and
  // apply the gated activation in one launch (kernels::matmul_wgmma_gated).
  GatedMmaLauncher matmul_gated = nullptr;
  // The batched decode step's GEMM (field streams whose rows matmul_mma_takes), or null: `matmul` then.
  FewLauncher matmul_few = nullptr;
  FewGatedLauncher matmul_few_gated = nullptr;    // with matmul_few
  FewRopeKvLauncher matmul_few_rope_kv = nullptr;  // with matmul_few
  EmbeddingLauncher embedding = nullptr;
  FusedGemvLauncher fused_gemv = nullptr;
  GatedGemvLauncher gated_gemv = nullptr;
  RopeKvGemvLauncher rope_kv_gemv = nullptr;  // field streams: fused_gemv with RoPE and the KV append after
  RopeKvPair rope_kv_pair;  // field streams, the first format of a listed pair: q, k and v of two formats at once
  bool fusable = false;  // takes gemv_q's staged path (or is field streams), so it can share a fused launch
  quant::WeightLayout layout = quant::WeightLayout::gguf_blocks;

  // y = W x (+ residual): one token.
  void multiply_vector(const float* x, float* y, const float* residual, const kernels::DeviceInfo& device,
                       cudaStream_t stream) const {
    gemv(data, rows, cols, x, y, residual, device, stream);
  }
  // Y = X W^T (+ residual): `tokens` rows of X at once, on tensor cores.
  void multiply(const float* x, std::size_t tokens, float* y, const float* residual, const kernels::DeviceInfo& device,
                cudaStream_t stream) const {
    matmul(data, rows, cols, x, tokens, y, residual, device, stream);
  }
  // Y_m = X W_m^T (+ residual_m) for up to three matrices sharing X (tokens
  // rows): where a matrix has the mma.sync prefill, X is rounded to f16 once
  // into x16 (tokens * cols halves) and each group with the same kernels and
  // cols is one launch; the others take `matmul`.
  static void multiply_tokens(std::span<const DeviceMatrix* const> matrices, const float* x, __half* x16,
                              std::size_t tokens, std::span<const VectorProduct> products,
                              const kernels::DeviceInfo& device, cudaStream_t stream);
  // Whether `gate` and `up` take one matmul_gated launch (same GEMM, rows, cols).
  [[nodiscard]] static bool take_gated(const DeviceMatrix& gate, const DeviceMatrix& up) {
    return gate.matmul_gated != nullptr && gate.matmul_gated == up.matmul_gated && gate.rows == up.rows &&
           gate.cols == up.cols;
  }
  // out (tokens, rows) f16 = act(gate x16) * (up x16); take_gated(gate, up) must hold.
  static void multiply_tokens_gated(model::FfnActivation activation, const DeviceMatrix& gate, const DeviceMatrix& up,
                                    const __half* x16, std::size_t tokens, __half* out,
                                    const kernels::DeviceInfo& device, cudaStream_t stream);
  // Y_m = X W_m^T (+ residual_m) for a batched decode step: `tokens` (at
  // most kernels::matmul_few_streams_max_tokens) rows of X, one per sequence.
  // Matrices with matmul_few share one f16 copy of X (x16) and a launch per
  // group, each weight read once for every row; the others take `matmul`.
  static void multiply_few(std::span<const DeviceMatrix* const> matrices, const float* x, __half* x16,
                           std::size_t tokens, std::span<const VectorProduct> products,
                           const kernels::SplitWorkspace& workspace, const kernels::DeviceInfo& device,
                           cudaStream_t stream);
  // Whether `gate` and `up` take one matmul_few_gated launch (same kernel, rows, cols).
  [[nodiscard]] static bool take_few_gated(const DeviceMatrix& gate, const DeviceMatrix& up) {
    return gate.matmul_few_gated != nullptr && gate.matmul_few_gated == up.matmul_few_gated &&
           gate.rows == up.rows && gate.cols == up.cols;
  }
  // out (tokens, rows) f16 = act(gate x16) * (up x16) for a batched decode
  // step, one launch; take_few_gated(gate, up) must hold.
  static void multiply_few_gated(model::FfnActivation activation, const DeviceMatrix& gate, const DeviceMatrix& up,
                                 const __half* x16, std::size_t tokens, __half* out,
                                 const kernels::SplitWorkspace& workspace, const kernels::DeviceInfo& device,
                                 cudaStream_t stream);
  // Whether q, k and v (in that order) can take multiply_few_rope_kv: each
  // has matmul_few_rope_kv, and the RoPE is interleaved.
  [[nodiscard]] static bool take_few_rope_kv(std::span<const DeviceMatrix* const> qkv, model::RopeLayout layout);
  // multiply_few_half on q, k and v (no residuals), then what
  // kernels::rope_kv_store does for the tokens, in the products' epilogue:
  // the queries turned into products[0].y, the turned keys and the values
  // into the caches (products[1].y and [2].y are not written).
  // take_few_rope_kv must hold.
  static void multiply_few_rope_kv(std::span<const DeviceMatrix* const> qkv, const __half* x16, std::size_t tokens,
                                   std::span<const VectorProduct> products, const kernels::RopeKvAppend& append,
                                   const kernels::SplitWorkspace& workspace, const kernels::DeviceInfo& device,
                                   cudaStream_t stream);
  // Whether every matrix takes the batched step's product (so an input made
  // in f16 by the kernel before, the norm or the activation, can feed them directly).
  [[nodiscard]] static bool all_take_few(std::span<const DeviceMatrix* const> matrices);
  // multiply_few on an input already in f16 (x16: tokens * cols halves);
  // every matrix must take the batched step's product.
  static void multiply_few_half(std::span<const DeviceMatrix* const> matrices, const __half* x16, std::size_t tokens,
                                std::span<const VectorProduct> products, const kernels::SplitWorkspace& workspace,
                                const kernels::DeviceInfo& device, cudaStream_t stream);
  // Whether every matrix takes the mma.sync prefill (so an input made in f16
  // by the kernel before, the norm or the activation, can feed them directly).
  [[nodiscard]] static bool all_take_mma(std::span<const DeviceMatrix* const> matrices);
  // multiply_tokens on an input already in f16 (x16: tokens * cols halves);
  // every matrix must take the mma.sync prefill.
  static void multiply_tokens_half(std::span<const DeviceMatrix* const> matrices, const __half* x16,
                                   std::size_t tokens, std::span<const VectorProduct> products,
                                   const kernels::DeviceInfo& device, cudaStream_t stream);
  // y_m = W_m norm(x) (+ residual_m) for up to three matrices sharing x: one
  // launch, the norm included, per group of them with the same kernels (same
  // format, layout and cols) when each can fuse (staged path or field
  // streams), else the norm and one product each.
  static void multiply_vectors(std::span<const DeviceMatrix* const> matrices, const NormedVector& input,
                               std::span<const VectorProduct> products, const kernels::DeviceInfo& device,
                               cudaStream_t stream);
  // Whether q, k and v (in that order) can take multiply_qkv_rope_kv: each
  // can fuse and has rope_kv_gemv, and the RoPE is interleaved.
  [[nodiscard]] static bool take_rope_kv(std::span<const DeviceMatrix* const> qkv, const NormedVector& input,
                                         model::RopeLayout layout);
  // multiply_vectors on q, k and v, then what kernels::rope_kv_store does for
  // the one token at *append.position, in the products' epilogue: q turned
  // into products[0].y, the turned key and the value rows into the caches
  // (products[1].y and [2].y are not written). take_rope_kv must hold.
  static void multiply_qkv_rope_kv(std::span<const DeviceMatrix* const> qkv, const NormedVector& input,
                                   std::span<const VectorProduct> products, const kernels::RopeKvAppend& append,
                                   const kernels::DeviceInfo& device, cudaStream_t stream);
  // out = act(W_gate norm(x)) * (W_up norm(x)): one launch when gate and up can
  // fuse, else the norm, two products (up's into up_scratch) and the activation.
  static void multiply_vector_gated(model::FfnActivation activation, const DeviceMatrix& gate, const DeviceMatrix& up,
                                    const NormedVector& input, float* out, float* up_scratch,
                                    const kernels::DeviceInfo& device, cudaStream_t stream);
  // Rows `tokens` of the matrix, dequantized (an embedding table).
  void gather_rows(const std::int32_t* tokens, std::size_t count, float* out, cudaStream_t stream) const {
    if (embedding == nullptr) fail_gather();
    embedding(data, cols, tokens, count, out, stream);
  }
  [[noreturn]] void fail_gather() const;
};

// Binds `tensor`, whose bytes the GPU reads at `device_data` in `layout`;
// throws for a format pagoda cannot compute in that layout. `wgmma`: the
// device runs matmul_wgmma_streams (kernels::DeviceInfo::wgmma), so field
// streams take it for prompts rather than mma.sync.
[[nodiscard]] DeviceMatrix bind_device_matrix(const gguf::TensorInfo& tensor, const std::byte* device_data,
                                              quant::WeightLayout layout = quant::WeightLayout::gguf_blocks,
                                              bool wgmma = false);

}  // namespace pagoda::runtime
