// The persistent decode step (issue 15): a sequence's one-token forward as one
// launch of kernels::persistent_decode, walking runtime::DecodeSchedule's
// items, instead of ~5-6 kernels a layer. The token's embedding runs before it
// (one small launch), the sampler after it; the logits product runs inside
// when the output matrix is in field streams, else as its own launch after.
// It is a choice of EngineCore's (EngineOptions::decode), over the same
// DeviceModel, KV cache, activations and sampler as the graph path.
//
// What it needs (PersistentStep::unsupported says which is missing): every
// layer matrix in the field-streams layout (DeviceCopy's packed layout), gate
// and up of one format, heads of at most 256 dimensions. Its grid is what the
// GPU holds at once (the occupancy calculator's count); a larger forced grid
// is refused: blocks beyond it could only start as others finish, waiting
// items would wait longer (the kernel cannot deadlock either way: see
// kernels/persistent_decode.cuh).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>

#include "pagoda/core/cuda_raii.hpp"
#include "pagoda/kernels/persistent_program.hpp"
#include "pagoda/model/config.hpp"
#include "pagoda/runtime/decode_schedule.hpp"
#include "pagoda/runtime/device_model.hpp"
#include "pagoda/runtime/kv_cache.hpp"

namespace pagoda::runtime {

// The engine's decode activations the step reads and writes (one token each).
struct StepBuffers {
  float *x, *x_next, *normed, *q, *k, *v, *attended, *gate, *logits;
};

class PersistentStep {
public:
  // Why this model cannot take the persistent step on this engine, or nullopt.
  [[nodiscard]] static std::optional<std::string> unsupported(const model::ModelConfig& config,
                                                              const DeviceModel& model);

  // grid: blocks of the launch; 0 for every block the GPU holds at once.
  // Throws pagoda::Error when unsupported() says why, or when `grid` exceeds
  // what fits at once.
  PersistentStep(const model::ModelConfig& config, const DeviceModel& model, const KvCache& kv,
                 std::uint32_t sequences, const StepBuffers& buffers, unsigned grid = 0,
                 const DecodeSchedulePolicy& policy = {}, bool prefetch = false);  // persistent_schedule_policy

  // The step of `sequence` (its token's embedding already in buffers.x) on
  // `stream`; position: the device int32 holding the token's position.
  void enqueue(cudaStream_t stream, std::uint32_t sequence, const std::int32_t* position);

  // Whether the logits are the kernel's (else the caller's product after it).
  [[nodiscard]] bool computes_logits() const { return logits_inside_; }
  [[nodiscard]] unsigned grid() const { return grid_; }
  [[nodiscard]] unsigned max_grid() const { return max_grid_; }
  // One line for the load report: items, ops, grid, where the logits are made.
  [[nodiscard]] std::string describe() const;

  // Profiling (EngineOptions::persistent_profile): every step from now on
  // stamps each item with %globaltimer (taken, waited, done); profile()
  // summarises the last step's on `stream` (after it): its span, how busy the
  // blocks were, and per op kind the time its items waited and worked.
  void enable_profile();
  [[nodiscard]] std::string profile(cudaStream_t stream) const;

private:
  // policy_.rows_by_op: each product's items cut until their weights fit a stage.
  void fit_items_to_stage(const DeviceModel& model);
  [[nodiscard]] std::vector<kernels::persistent::Op> ops_for(const model::ModelConfig& config,
                                                             const DeviceModel& model, const KvCache& kv,
                                                             std::uint32_t sequence) const;

  StepBuffers buffers_;
  DecodeSchedulePolicy policy_;
  DecodeSchedule schedule_;
  bool logits_inside_ = false;
  // The next item's weights into a shared-memory stage where they fit, else
  // into L2 (kernels::persistent::Program::prefetch_next, Item::stage_bytes).
  bool prefetch_ = false;
  gguf::TensorType main_format_{};  // the kernel's inline products (the most bytes of the layers)
  std::size_t max_cols_ = 0;
  // Dynamic shared memory a block: x from 0, the two weight stages from stage_offset_.
  std::size_t shared_bytes_ = 0, stage_offset_ = 0, stage_bytes_ = 0;
  std::size_t ops_offset_ = 0;     // the ops' copy in shared memory (shared_ops_ of them; 0: none)
  std::uint32_t shared_ops_ = 0;
  std::size_t staged_items_ = 0;  // items whose weights are copied into a stage ahead of them
  unsigned grid_ = 0, max_grid_ = 0;
  std::uint32_t item_count_ = 0;
  DeviceBuffer items_, signals_, counters_, epoch_, attention_workspace_, stamps_;
  std::vector<DecodeOp> op_of_item_;  // the device list's items' ops, for the profile
  std::vector<kernels::persistent::Item> items_host_;  // the device list, for the profile
  std::vector<DeviceBuffer> ops_;  // per sequence (their caches differ)
};

}  // namespace pagoda::runtime
