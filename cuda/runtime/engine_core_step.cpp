// EngineCore's multi-sequence step (sequence_step.hpp): prompts run as
// prefills of their own sequences; the one-token items run together, one
// forward over a row per sequence that reads every weight once
// (DeviceMatrix::multiply_few) and attends each row to its own cache
// (kernels::attention_decode_batch), then each sequence's sampler draws from
// its row of the logits.
#include "pagoda/runtime/engine_core.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"

namespace pagoda::runtime {

void EngineCore::step(std::span<SequenceStep> steps) {
  // Every item is checked before anything runs: a bad one leaves every sequence as it was.
  std::vector<bool> named(sequences_.size(), false);
  for (const SequenceStep& item : steps) {
    check_tokens(item.sequence, item.tokens);
    if (named[item.sequence]) fail("sequence {} appears twice in one step", item.sequence);
    named[item.sequence] = true;
  }
  std::vector<SequenceStep*> singles;
  for (SequenceStep& item : steps) {
    if (item.tokens.size() > 1) item.next = prefill_sequence(item.sequence, item.tokens);
    else singles.push_back(&item);
  }
  // A few tokens take their sequences' decode graphs (the GEMVs), more the
  // batched forward, batch_rows_ at a time (a short remainder one by one too).
  for (std::size_t done = 0; done < singles.size();) {
    const std::size_t rows = std::min(std::max<std::size_t>(batch_rows_, 1), singles.size() - done);
    if (rows >= batched_step_min_rows) {
      step_batch(std::span(singles).subspan(done, rows));
    } else {
      for (std::size_t r = done; r < done + rows; ++r)
        singles[r]->next = decode_sequence(singles[r]->sequence, singles[r]->tokens.front());
    }
    done += rows;
  }
}

void EngineCore::enqueue_batch_forward(std::size_t rows, cudaStream_t s) {
  const auto* inputs = reinterpret_cast<const std::int32_t*>(batch_inputs_.data());
  embed(inputs, rows, s);
  enqueue_layers(rows, inputs + batch_rows_, 0, Pass::batch, 0, {inputs + 2 * batch_rows_, inputs + 3 * batch_rows_});
}

void EngineCore::step_batch(std::span<SequenceStep* const> items) {
  const std::size_t rows = items.size();
  const cudaStream_t s = stream_.get();
  auto* staged = reinterpret_cast<std::int32_t*>(batch_staging_.data());
  check_cuda(cudaStreamSynchronize(s), "cudaStreamSynchronize", "before reusing the batched step's staging");
  // (4, batch_rows_): tokens, positions, KV rows (of the whole cache), sequences.
  for (std::size_t r = 0; r < rows; ++r) {
    const SequenceStep& item = *items[r];
    const std::uint32_t position = sequences_[item.sequence].position;
    staged[r] = item.tokens.front();
    staged[batch_rows_ + r] = static_cast<std::int32_t>(position);
    staged[2 * batch_rows_ + r] = static_cast<std::int32_t>(item.sequence * kv_.context() + position);
    staged[3 * batch_rows_ + r] = static_cast<std::int32_t>(item.sequence);
  }
  check_cuda(cudaMemcpyAsync(batch_inputs_.data(), staged, 4 * batch_rows_ * sizeof(std::int32_t),
                             cudaMemcpyHostToDevice, s),
             "batched step inputs upload");
  // Eager the first time a row count runs (the kernels' one-time set-up,
  // shared-memory opt-ins, happens outside any capture), a graph from then on.
  CudaGraph& graph = batch_graphs_[rows];
  if (options_.use_cuda_graph && batch_runs_[rows] > 0) {
    if (!graph.captured()) graph.capture(s, [&](cudaStream_t stream) { enqueue_batch_forward(rows, stream); });
    graph.launch(s);
  } else {
    enqueue_batch_forward(rows, s);
  }
  ++batch_runs_[rows];
  auto* sampled = reinterpret_cast<std::int32_t*>(batch_sampled_.data());
  const auto* logits = reinterpret_cast<const float*>(batch_logits_.data());
  // Each row's sampler on its own stream once the logits are there; stream_ waits for them all.
  batch_logits_ready_->record(s, "batched step logits");
  for (std::size_t r = 0; r < rows; ++r) {
    const cudaStream_t side = sampling_streams_[r].get();
    check_cuda(cudaStreamWaitEvent(side, batch_logits_ready_->get(), 0), "cudaStreamWaitEvent",
               "a batched step's sampler waits for the logits");
    sequences_[items[r]->sequence].sampler.sample(logits + r * config_.vocab_size, sampled + 2 * r, side,
                                                  sampled + 2 * r + 1);
    sampling_done_[r].record(side, "batched step sampling");
    check_cuda(cudaStreamWaitEvent(s, sampling_done_[r].get(), 0), "cudaStreamWaitEvent",
               "a batched step waits for its samplers");
  }
  std::int32_t* results = staged + 4 * batch_rows_;
  check_cuda(cudaMemcpyAsync(results, sampled, 2 * rows * sizeof(std::int32_t), cudaMemcpyDeviceToHost, s),
             "batched step tokens download");
  check_cuda(cudaStreamSynchronize(s), "cudaStreamSynchronize", "after a batched step");
  forget_logits(logits, rows);
  for (std::size_t r = 0; r < rows; ++r)
    sequences_[items[r]->sequence].last_logits = logits + r * config_.vocab_size;
  for (SequenceStep* item : items) {  // every row ran: each cache holds its token
    Sequence& seq = sequences_[item->sequence];
    ++seq.position;
    seq.history.push_back(item->tokens.front());
  }
  for (std::size_t r = 0; r < rows; ++r) {
    if (const std::int32_t bad = results[2 * r + 1]; bad >= 0)
      fail_non_finite(items[r]->sequence, logits + r * config_.vocab_size, bad);
    items[r]->next = results[2 * r];
  }
}

}  // namespace pagoda::runtime
