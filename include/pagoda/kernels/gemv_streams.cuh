// kernels::gemv_streams / gemv_streams_fused / gemv_streams_fused_gated: the
// decode matrix-vector products on the field-streams layout
// (quant/field_streams.hpp), with the same fusions as the staged GGUF path
// (gemv_q_fused.cuh): up to three matrices sharing x (q, k, v with biases as
// residuals), gate and up with the activation in the epilogue, the RMSNorm of
// x in the prologue. gemv_streams_fused_rope_kv: q, k and v with the step's
// RoPE and KV append in the epilogue (rope_kv_rows.cuh).
//
// Why: on the GGUF layout a lane cannot load 16 bytes of quants (blocks are
// 18/144/210 bytes, 2-aligned), so the staged kernel copies tiles through
// shared memory and keeps ~1 tile per warp in flight: 1.1-1.7 TB/s of the
// H100's ~3 TB/s. Here each lane loads whole 16-byte units straight into
// registers (StreamsDot<F>: consecutive lanes, consecutive units), the next
// step's units are in flight while the current ones are multiplied, and the
// first ones are issued before the previous kernel has finished (PDL).
//
// Work: a warp owns R rows (a task); blocks of 8 warps stride over the tasks
// (the grid is at most what fits the GPU at once). x is normalised (if asked),
// quantized to int16 once per block into shared memory, chunk-major so that a
// lane reading its unit's x conflicts with no other lane.
// Bytes moved: the matrices once, x once per block from L2, 4 bytes per row
// out. Bound: HBM bandwidth (a 4096 x 4096 Q4_0 matrix is 9.4 MB: 3.1 us at
// 3 TB/s).
//
// Host code compiled by g++ includes this header for the declarations; the
// instantiations are generated per format of quant::field_stream_formats from
// cuda/templates/gemv_streams_format.cu.in.
#pragma once

#include <cstddef>
#include <span>

#include <cuda_runtime_api.h>

#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/gemv_q_fused.cuh>
#include <pagoda/kernels/rope_kv_rows.cuh>
#include <pagoda/model/architecture.hpp>
#include <pagoda/kernels/tuning/gemv_q.hpp>
#include <pagoda/quant/field_streams.hpp>

#if defined(__CUDACC__)
#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>

#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/gemv_q_staged.cuh>
#include <pagoda/kernels/gemv_q_staged_launch.cuh>
#include <pagoda/kernels/step_stamps.cuh>
#include <pagoda/kernels/streams_dot.cuh>
#endif

namespace pagoda::kernels {

// Columns the field-streams GEMV takes: x as int16 in shared memory, 2.125 bytes a column.
inline constexpr std::size_t gemv_streams_max_cols = 65536;

// y = W x (+ residual) for one matrix in the field-streams layout (GemvLauncher's signature).
// gemv_streams_with: with a launch shape of kernels::gemv_streams_policies
// (a GemvPolicy{} picks as gemv_streams does), for benchmarks and tests.
template <quant::QuantFormat F>
void gemv_streams_with(GemvPolicy policy, const std::byte* weights, std::size_t rows, std::size_t cols,
                       const float* x, float* y, const float* residual, const DeviceInfo& device,
                       cudaStream_t stream);
template <quant::QuantFormat F>
void gemv_streams(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x, float* y,
                  const float* residual, const DeviceInfo& device, cudaStream_t stream);

template <quant::QuantFormat F>
void gemv_streams_fused(std::span<const GemvTarget> targets, std::size_t cols, const float* x, RmsNormFirst norm,
                        const DeviceInfo& device, cudaStream_t stream);

template <quant::QuantFormat F>
void gemv_streams_fused_gated(model::FfnActivation activation, const std::byte* gate, const std::byte* up,
                              std::size_t rows, std::size_t cols, const float* x, RmsNormFirst norm, float* out,
                              const DeviceInfo& device, cudaStream_t stream);

// gemv_streams_fused for q, k and v of a decode step whose RoPE is
// interleaved, with RoPE and the KV append in its epilogue (RopeKvAppend says
// what each target is and where its rows go): what gemv_streams_fused, then
// rope_kv_store for one token, leave in q and the caches, bit for bit. Throws
// pagoda::Error, as gemv_streams_fused does and where the RoPE is not
// interleaved, its parameters invalid, a target's rows not whole heads (keys
// and values: as many rows each), or a cache or the position null.
template <quant::QuantFormat F>
void gemv_streams_fused_rope_kv(std::span<const GemvTarget> targets, std::size_t cols, const float* x,
                                RmsNormFirst norm, const RopeKvAppend& append, const DeviceInfo& device,
                                cudaStream_t stream);

#if defined(__CUDACC__)

// The rows of `targets` (Rows::total of them; Targets is what Rows reads,
// a StagedTargets for the kernels here) in tasks of R rows, a warp per
// task: this warp takes tasks task, task + task_stride, ... below task_end.
// x is read from `xs` (the block's chunk-major int16 copy). The first step of
// the first task is loaded before `before_compute()` runs, which every thread
// of the block calls once, whatever its tasks (it may synchronise the block):
// the caller waits there for x to be ready and fills `xs`, so the weights are
// in flight meanwhile. S: units a lane loads a step (StreamsDot's choice unless
// the caller has fewer registers to spare). The decode GEMV (gemv_streams_kernel) and the
// persistent decode step (persistent_decode.cuh) both run this loop.
template <class F, class Rows, int Threads, int R, int S = StreamsDot<F>::units_per_step, class Targets,
          class BeforeCompute>
__device__ __forceinline__ void streams_rows(const Targets& targets, std::size_t cols,
                                             const streams::XShared& xs, std::size_t task, std::size_t task_end,
                                             std::size_t task_stride, BeforeCompute&& before_compute) {
  using Dot = StreamsDot<F>;
  using Raw = typename Dot::Raw;
  static_assert(Threads % 32 == 0 && R >= 1 && R <= 4, "gemv_streams: whole warps, 1..4 rows each");
  const int lane = static_cast<int>(threadIdx.x) % 32;

  const std::size_t rows = Rows::total(targets);
  const std::size_t units = cols / F::block_elements * Dot::units_per_block;
  const std::size_t steps = (units + 32 * S - 1) / (32 * S);
  std::size_t step = 0;

  // Units step*32S + 32s + lane of the task's rows (a ragged last task
  // re-reads the last row and does not store it).
  const auto load = [&](std::size_t t, std::size_t st, Raw (&raw)[S][R]) {
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::size_t row = t * R + r < rows ? t * R + r : rows - 1;
      const RowRef ref = Rows::locate(targets, row);
      const auto streams_row = quant::field_stream_row<F>(ref.weights, ref.rows, cols, ref.row);
#pragma unroll
      for (int s = 0; s < S; ++s) {
        const std::size_t unit = st * 32 * S + 32 * s + static_cast<std::size_t>(lane);
        if (unit < units) raw[s][r] = Dot::load(streams_row, unit);
      }
    }
  };

  Raw current[S][R];
  if (task < task_end) load(task, 0, current);  // weights in flight while x is made ready
  before_compute();

  float acc[R];
#pragma unroll
  for (int r = 0; r < R; ++r) acc[r] = 0.0f;
  while (task < task_end) {
    std::size_t next_task = task, next_step = step + 1;
    if (next_step == steps) next_step = 0, next_task += task_stride;
    Raw next[S][R];
    if (next_task < task_end) load(next_task, next_step, next);
#pragma unroll
    for (int s = 0; s < S; ++s) {
      const std::size_t unit = step * 32 * S + 32 * s + static_cast<std::size_t>(lane);
      if (unit < units) Dot::accumulate(current[s], unit, xs, acc);
    }
    if (next_step == 0) {  // the task's rows are complete
#pragma unroll
      for (int r = 0; r < R; ++r)
#pragma unroll
        for (int o = 16; o > 0; o /= 2) acc[r] += __shfl_xor_sync(0xffffffffu, acc[r], o);
      if (lane == 0) Rows::finish(targets, task * R, acc);
#pragma unroll
      for (int r = 0; r < R; ++r) acc[r] = 0.0f;
    }
#pragma unroll
    for (int s = 0; s < S; ++s)
#pragma unroll
      for (int r = 0; r < R; ++r) current[s][r] = next[s][r];
    task = next_task;
    step = next_step;
  }
}

// The x of one GEMV in the block's shared memory: normalised first when
// targets.norm_weight is set, quantized to int16 chunk-major (all threads;
// synchronises the block). Coherent: x was written by other blocks of the
// same kernel (the persistent step), so it is read through L2, never
// through the non-coherent read-only path.
template <int Threads, bool Coherent = false>
__device__ __forceinline__ streams::XShared streams_x_to_shared(const StagedTargets& targets, std::size_t cols,
                                                                const float* x, int4* shared) {
  const std::size_t x_blocks = cols / 32;
  const float norm_scale =
      targets.norm_weight != nullptr ? block_rms_scale_at_once<Threads, Coherent>(x, cols, targets.norm_eps) : 1.0f;
  detail::quantize_x16_to_shared<Threads, true, Coherent>(x, cols, reinterpret_cast<std::int16_t*>(shared),
                                                reinterpret_cast<float*>(shared + 4 * x_blocks),
                                                targets.norm_weight, norm_scale);
  __syncthreads();
  return {shared, reinterpret_cast<const float*>(shared + 4 * x_blocks), x_blocks};
}

// Blocks an SM the kernel is compiled for: two of the two-an-SM shape; 0, no
// minimum, for the others (an explicit 1 changes ptxas's register choices).
constexpr int streams_min_blocks(int threads) { return threads == gemv_streams_policy_two_an_sm.threads ? 2 : 0; }

// The formats whose q, k and v RoPE kernel fits two 12-warp blocks an SM
// without spilling (ptxas, sm_90a: Q4_0 78 registers, no spill) and was
// measured faster there; the others keep the wide shape. (Q4_0's gate and up
// fit too, 77-80 registers, and were measured slower: 8B -0.9%, 1B -0.8%.)
template <class F>
inline constexpr bool streams_rope_kv_two_an_sm = std::is_same_v<F, quant::Q4_0>;

template <class F, class Rows, int Threads, int R>
__global__ void __launch_bounds__(Threads, streams_min_blocks(Threads))
    gemv_streams_kernel(typename Rows::Targets targets,  // each (rows, cols) of F in the field-streams layout, 16-aligned
                        std::size_t cols, const float* __restrict__ x) {
  constexpr int warps = Threads / 32;
  extern __shared__ int4 shared[];
  const std::size_t x_blocks = cols / 32;
  const streams::XShared xs{shared, reinterpret_cast<const float*>(shared + 4 * x_blocks), x_blocks};
  const std::size_t tasks = (Rows::total(targets) + R - 1) / R;
  const std::size_t task = std::size_t{blockIdx.x} * warps + threadIdx.x / 32;
  constexpr StampTag tag = std::is_same_v<Rows, RopeKvRows> ? StampTag::gemv_rope_kv
                           : Rows::paired                     ? StampTag::gemv_gated
                                                              : StampTag::gemv;
  const auto stamp_rows = static_cast<std::uint32_t>(Rows::total(targets));
  const auto stamp_cols = static_cast<std::uint32_t>(cols);
  step_stamp(tag, StampEvent::start, stamp_rows, stamp_cols);
  pdl_trigger();  // the next kernel may be scheduled now; it waits for this one's results itself
  streams_rows<F, Rows, Threads, R>(targets, cols, xs, task, tasks, std::size_t{gridDim.x} * warps, [&] {
    pdl_wait();  // x (and the residual) come from the kernel before: only now may they be read
    step_stamp(tag, StampEvent::waited, stamp_rows, stamp_cols);
    streams_x_to_shared<Threads>(targets, cols, x, shared);
    step_stamp(tag, StampEvent::ready, stamp_rows, stamp_cols);
  });
  step_stamp_done(tag, stamp_rows, stamp_cols);
}

namespace detail {

inline std::size_t streams_shared_bytes(std::size_t cols) { return 2 * cols + cols / 32 * sizeof(float); }

template <quant::QuantFormat F, class Rows, int Threads, int R>
void launch_streams_kernel(const typename Rows::Targets& targets, std::size_t rows, std::size_t cols, const float* x,
                           const DeviceInfo& device, cudaStream_t stream) {
  const auto kernel = gemv_streams_kernel<F, Rows, Threads, R>;
  // Above 48 KB a kernel must opt in: once per instantiation and device, to
  // the most any call may need. The grid: what fits at the typical size (4096
  // columns). DeviceInfo does both on the first call only.
  const auto* key = reinterpret_cast<const void*>(kernel);
  device.opt_in_shared_memory(key, streams_shared_bytes(gemv_streams_max_cols), "kernels::gemv_streams_kernel");
  const int resident = device.resident_blocks(key, Threads, streams_shared_bytes(4096));
  const std::size_t tasks = (rows + R - 1) / R;
  const std::size_t blocks = (tasks + Threads / 32 - 1) / (Threads / 32);
  const auto grid = static_cast<unsigned>(std::min<std::size_t>(blocks, static_cast<std::size_t>(resident)));
  launch_dependent(kernel, grid, Threads, streams_shared_bytes(cols), stream, device.programmatic_launch(),
                   "cudaLaunchKernelEx(gemv_streams_kernel)", targets, cols, x);
}

// What every field-streams GEMV launch over `targets` needs (F: the format
// of every target; a launch of two formats checks each). Throws
// pagoda::Error naming `operation`.
template <quant::QuantFormat F>
void require_streams_launch(const std::string& operation, const StagedTargets& targets, std::size_t rows,
                            std::size_t cols, const float* x) {
  const auto need = [&](bool holds, const std::string& requirement) {
    if (!holds) fail_precondition(operation, requirement);
  };
  need(cols % F::block_elements == 0 && cols % 32 == 0,
       "cols (" + std::to_string(cols) + ") is a multiple of the block size (" +
           std::to_string(F::block_elements) + ")");
  need(cols <= gemv_streams_max_cols, "cols (" + std::to_string(cols) + ") is at most " +
                                          std::to_string(gemv_streams_max_cols));
  if (rows == 0) return;
  need(x != nullptr && cols != 0, "x is not null and cols is not 0");
  need(reinterpret_cast<std::uintptr_t>(x) % 16 == 0, "x is aligned to 16 bytes");
  for (int m = 0; m < 3; ++m) {
    if (targets.rows[m] == 0) continue;
    need(targets.weights[m] != nullptr && targets.y[m] != nullptr, "weights and y are not null");
    need(reinterpret_cast<std::uintptr_t>(targets.weights[m]) % 16 == 0, "the weights are aligned to 16 bytes");
    need(static_cast<const void*>(x) != static_cast<const void*>(targets.y[m]), "y is not x");
  }
  if (targets.norm_weight != nullptr)
    need(reinterpret_cast<std::uintptr_t>(targets.norm_weight) % 16 == 0, "the norm weight is aligned to 16 bytes");
}

// One launch over `targets` (rows: what Rows::total gives), checked.
template <quant::QuantFormat F, class Rows>
void launch_streams(const std::string& operation, const typename Rows::Targets& targets, std::size_t rows, std::size_t cols,
                    const float* x, const DeviceInfo& device, cudaStream_t stream, GemvPolicy forced = {}) {
  const auto need = [&](bool holds, const std::string& requirement) {
    if (!holds) fail_precondition(operation, requirement);
  };
  require_streams_launch<F>(operation, targets, rows, cols, x);
  if (rows == 0) return;
  // Two rows per warp share each x load; one where the rows are too few to
  // give every SM work (SmolLM2's 576-row projections), as the staged path.
  GemvPolicy policy =
      forced.threads != 0 ? forced : tuning::select_streams(device.compute_capability(), {rows, cols});
  if (Rows::paired && policy.rows_per_warp() != 2) policy = gemv_streams_policy_tall;
  bool launched = false;
  if constexpr (std::is_same_v<Rows, RopeKvRows> && streams_rope_kv_two_an_sm<F>) {
    constexpr GemvPolicy wide = gemv_streams_policy_wide, two = gemv_streams_policy_two_an_sm;
    const auto resident_warps = [&](const void* kernel, GemvPolicy p) {
      return static_cast<std::size_t>(device.resident_blocks(kernel, p.threads, streams_shared_bytes(4096))) *
             static_cast<std::size_t>(p.warps());
    };
    if (forced.threads == 0 && policy == wide &&
        tuning::two_an_sm_fewer_rounds(
            (rows + 1) / 2,
            resident_warps(reinterpret_cast<const void*>(gemv_streams_kernel<F, Rows, wide.threads, 2>), wide),
            resident_warps(reinterpret_cast<const void*>(gemv_streams_kernel<F, Rows, two.threads, 2>), two)))
      policy = two;
    if (policy == two) {
      launch_streams_kernel<F, Rows, two.threads, 2>(targets, rows, cols, x, device, stream);
      launched = true;
    }
  }
  if (!launched)
    launched = visit_listed<gemv_streams_policies>(
        policy,
        [&](auto index) {
          constexpr GemvPolicy p = gemv_streams_policies[decltype(index)::value];
          if constexpr (!Rows::paired || p.rows_per_warp() == 2) {
            launch_streams_kernel<F, Rows, p.threads, p.rows_per_warp()>(targets, rows, cols, x, device, stream);
            return true;
          } else {
            return false;
          }
        },
        [] { return false; });
  need(launched, "the policy is one of kernels::gemv_streams_policies (two rows a warp for a gated launch)");
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    fail_cuda(operation, cudaGetErrorName(status), cudaGetErrorString(status));
}

template <class F>
std::string streams_operation(const char* what) {
  return std::string("kernels::").append(what).append("<").append(F::name).append(">");
}

}  // namespace detail

template <quant::QuantFormat F>
void gemv_streams_with(GemvPolicy policy, const std::byte* weights, std::size_t rows, std::size_t cols,
                       const float* x, float* y, const float* residual, const DeviceInfo& device,
                       cudaStream_t stream) {
  StagedTargets targets;
  targets.weights[0] = weights;
  targets.y[0] = y;
  targets.residual[0] = residual;
  targets.rows[0] = rows;
  detail::launch_streams<F, StoreRows>(detail::streams_operation<F>("gemv_streams"), targets, rows, cols, x, device,
                                       stream, policy);
}

template <quant::QuantFormat F>
void gemv_streams(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x, float* y,
                  const float* residual, const DeviceInfo& device, cudaStream_t stream) {
  gemv_streams_with<F>(GemvPolicy{}, weights, rows, cols, x, y, residual, device, stream);
}

template <quant::QuantFormat F>
void gemv_streams_fused(std::span<const GemvTarget> targets, std::size_t cols, const float* x, RmsNormFirst norm,
                        const DeviceInfo& device, cudaStream_t stream) {
  const std::string operation = detail::streams_operation<F>("gemv_streams_fused");
  const StagedTargets staged = detail::stored_targets(operation, targets, norm);
  detail::launch_streams<F, StoreRows>(operation, staged, detail::total_rows(staged), cols, x, device, stream);
}

template <quant::QuantFormat F>
void gemv_streams_fused_gated(model::FfnActivation activation, const std::byte* gate, const std::byte* up,
                              std::size_t rows, std::size_t cols, const float* x, RmsNormFirst norm, float* out,
                              const DeviceInfo& device, cudaStream_t stream) {
  const std::string operation = detail::streams_operation<F>("gemv_streams_fused_gated");
  const StagedTargets staged = detail::gated_targets(gate, up, rows, out, norm);
  if (activation == model::FfnActivation::silu)
    detail::launch_streams<F, GatedRows<model::FfnActivation::silu>>(operation, staged, 2 * rows, cols, x, device,
                                                                     stream);
  else
    detail::launch_streams<F, GatedRows<model::FfnActivation::gelu_tanh>>(operation, staged, 2 * rows, cols, x,
                                                                          device, stream);
}

namespace detail {

// The targets of a q, k, v launch with the RoPE and KV append in its
// epilogue, checked (gemv_streams_fused_rope_kv's refusals).
inline RopeKvTargets rope_kv_targets(const std::string& operation, std::span<const GemvTarget> targets,
                                     RmsNormFirst norm, const RopeKvAppend& append) {
  const auto need = [&](bool holds, const std::string& requirement) {
    if (!holds) fail_precondition(operation, requirement);
  };
  require_valid(append.rope, operation);
  need(append.rope.layout == model::RopeLayout::interleaved,
       "the RoPE is interleaved (a warp's two rows are one pair; NeoX's pairs are head_dim / 2 rows apart)");
  need(append.rope.head_dim > 0 && append.rope.head_dim % 2 == 0, "head_dim is even");
  need(append.k_cache != nullptr && append.v_cache != nullptr && append.positions != nullptr,
       "the caches and the positions are not null");
  RopeKvTargets staged{detail::stored_targets(operation, targets, norm), append};
  std::size_t kv_rows = 0;
  for (std::size_t m = 0; m < targets.size(); ++m) {
    need(targets[m].rows % append.rope.head_dim == 0, "every target's rows are whole heads");
    if (append.roles[m] == QkvRole::query) continue;
    need(kv_rows == 0 || targets[m].rows == kv_rows, "keys and values have as many rows (kv_dim)");
    kv_rows = targets[m].rows;
  }
  return staged;
}

}  // namespace detail

template <quant::QuantFormat F>
void gemv_streams_fused_rope_kv(std::span<const GemvTarget> targets, std::size_t cols, const float* x,
                                RmsNormFirst norm, const RopeKvAppend& append, const DeviceInfo& device,
                                cudaStream_t stream) {
  const std::string operation = detail::streams_operation<F>("gemv_streams_fused_rope_kv");
  const RopeKvTargets staged = detail::rope_kv_targets(operation, targets, norm, append);
  detail::launch_streams<F, RopeKvRows>(operation, staged, detail::total_rows(staged), cols, x, device, stream);
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::field_stream_formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/gemv_streams_format.cu.in.
#include <pagoda/kernels/generated/gemv_streams_externs.hpp>
