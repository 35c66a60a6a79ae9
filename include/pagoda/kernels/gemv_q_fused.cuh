// kernels::gemv_q_fused / gemv_q_fused_gated: several decode-step products
// that share x in one launch of gemv_q's staged kernel (gemv_q_staged.cuh):
//   gemv_q_fused:       y_m = W_m x (+ residual_m) for up to three matrices
//                       (q, k and v; a bias rides as the residual);
//   gemv_q_fused_gated: out = act(W_gate x) * (W_up x), the gated FFN input,
//                       with the element-wise kernels' rounding (activation.cuh).
// Either may first RMS-normalise x (RmsNormFirst), exactly as kernels::rms_norm
// would, so the norm before a decode projection needs no launch of its own.
// Each launch quantizes x once and spreads the matrices' rows over every SM,
// where separate launches each pay launch latency, x and a ragged tail. The
// results equal gemv_q's staged path (and the element-wise activation after
// it) bit for bit: the same kernel computes every row.
// Preconditions (throwing pagoda::Error): every matrix takes the staged path
// (gemv_takes_staged_path: gemv_fusable says so for a set), same format and
// cols; gated: gate and up of equal rows.
//
// Host code compiled by g++ includes this header for the declarations; the
// instantiations are generated per format from cuda/templates/gemv_q_fused_format.cu.in.
#pragma once

#include <cstddef>
#include <span>

#include <cuda_runtime_api.h>

#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/gemv_staged_path.hpp>
#include <pagoda/model/architecture.hpp>
#include <pagoda/quant/float_formats.hpp>
#include <pagoda/quant/format.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/legacy_formats.hpp>

#if defined(__CUDACC__)
#include <pagoda/kernels/gemv_q_staged_launch.cuh>
#endif

namespace pagoda::kernels {

// The RMSNorm to apply to x first (weight: (cols) f32, 16-aligned), or none.
struct RmsNormFirst {
  const float* weight = nullptr;
  float eps = 0.0f;
};

struct GemvTarget {
  const std::byte* weights;  // (rows, cols) in the format
  std::size_t rows;
  float* y;                  // (rows)
  const float* residual;     // added to y, or nullptr
};

// Whether matrices of format F at these addresses can share one fused launch.
template <quant::QuantFormat F>
[[nodiscard]] bool gemv_fusable(std::span<const std::byte* const> weights, std::size_t cols) {
  for (const std::byte* w : weights)
    if (!gemv_takes_staged_path<F>(w, cols)) return false;
  return true;
}

template <quant::QuantFormat F>
void gemv_q_fused(std::span<const GemvTarget> targets, std::size_t cols, const float* x, RmsNormFirst norm,
                  const DeviceInfo& device, cudaStream_t stream);

template <quant::QuantFormat F>
void gemv_q_fused_gated(model::FfnActivation activation, const std::byte* gate, const std::byte* up, std::size_t rows,
                        std::size_t cols, const float* x, RmsNormFirst norm, float* out, const DeviceInfo& device,
                        cudaStream_t stream);

#if defined(__CUDACC__)

namespace detail {

// One launch's matrices as the kernels take them (the staged and the
// field-streams GEMVs alike): up to three stored one after another, or gate
// and up paired.
inline StagedTargets stored_targets(const std::string& operation, std::span<const GemvTarget> targets,
                                    RmsNormFirst norm) {
  if (targets.empty() || targets.size() > 3)
    fail_precondition(operation, "one to three matrices (got " + std::to_string(targets.size()) + ")");
  StagedTargets staged;
  staged.norm_weight = norm.weight;
  staged.norm_eps = norm.eps;
  for (std::size_t m = 0; m < targets.size(); ++m) {
    staged.weights[m] = targets[m].weights;
    staged.y[m] = targets[m].y;
    staged.residual[m] = targets[m].residual;
    staged.rows[m] = targets[m].rows;
  }
  return staged;
}

inline std::size_t total_rows(const StagedTargets& staged) { return staged.rows[0] + staged.rows[1] + staged.rows[2]; }

inline StagedTargets gated_targets(const std::byte* gate, const std::byte* up, std::size_t rows, float* out,
                                   RmsNormFirst norm) {
  StagedTargets staged;
  staged.norm_weight = norm.weight;
  staged.norm_eps = norm.eps;
  staged.weights[0] = gate;
  staged.weights[1] = up;
  staged.y[0] = out;
  staged.y[1] = out;  // checked against x like any output; written through y[0] only
  staged.rows[0] = rows;
  staged.rows[1] = rows;
  return staged;
}

}  // namespace detail

template <quant::QuantFormat F>
void gemv_q_fused(std::span<const GemvTarget> targets, std::size_t cols, const float* x, RmsNormFirst norm,
                  const DeviceInfo& device, cudaStream_t stream) {
  const std::string operation = std::string("kernels::gemv_q_fused<").append(F::name).append(">");
  const StagedTargets staged = detail::stored_targets(operation, targets, norm);
  detail::launch_staged<F, StoreRows>(operation, staged, detail::total_rows(staged), cols, x, gemv_staged_policy_tall,
                                      device, stream);
}

template <quant::QuantFormat F>
void gemv_q_fused_gated(model::FfnActivation activation, const std::byte* gate, const std::byte* up, std::size_t rows,
                        std::size_t cols, const float* x, RmsNormFirst norm, float* out, const DeviceInfo& device,
                        cudaStream_t stream) {
  const std::string operation = std::string("kernels::gemv_q_fused_gated<").append(F::name).append(">");
  const StagedTargets staged = detail::gated_targets(gate, up, rows, out, norm);
  if (activation == model::FfnActivation::silu)
    detail::launch_staged<F, GatedRows<model::FfnActivation::silu>>(operation, staged, 2 * rows, cols, x,
                                                                     gemv_staged_policy_tall, device, stream);
  else
    detail::launch_staged<F, GatedRows<model::FfnActivation::gelu_tanh>>(operation, staged, 2 * rows, cols, x,
                                                                          gemv_staged_policy_tall, device, stream);
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/gemv_q_fused_format.cu.in.
#include <pagoda/kernels/generated/gemv_q_fused_externs.hpp>
