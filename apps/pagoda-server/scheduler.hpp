// The scheduler: a queue of requests, N slots, and one step at a time over
// the slots that are busy (continuous batching). A request submitted now
// joins at the next step; each step gives every busy slot one unit of work —
// the next chunk of its prompt (at most prefill_chunk tokens, so a long prompt
// never stalls the streams beside it for more than one chunk) or one decode
// token — and hands them to the StepBackend together. A new request goes to
// the free slot whose cache shares the longest prefix with its prompt (the
// least recently used among equals), and only the rest of the prompt runs.
//
// Threads: submit(), metrics() and shutdown() from any thread; step() and
// run() from one thread only, which alone touches the backend.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <vector>

#include "job.hpp"
#include "step_backend.hpp"
#include "stop_matcher.hpp"
#include "pagoda/text/stream_decoder.hpp"
#include "pagoda/text/tokenizer.hpp"

namespace pagoda::server {

struct SchedulerOptions {
  std::size_t max_queue = 64;      // requests waiting for a slot; beyond: submit refuses (503)
  std::size_t prefill_chunk = 64;  // prompt tokens per slot per step
};

struct SchedulerMetrics {
  std::uint64_t requests_submitted = 0;
  std::uint64_t requests_rejected = 0;     // the queue was full
  std::uint64_t requests_finished = 0;     // by any outcome, below by some
  std::uint64_t requests_cancelled = 0;
  std::uint64_t requests_timed_out = 0;
  std::uint64_t requests_failed = 0;
  std::uint64_t prompt_tokens = 0;         // prefilled
  std::uint64_t cached_prompt_tokens = 0;  // reused from a slot's cache instead
  std::uint64_t generated_tokens = 0;
  std::uint64_t steps = 0;
  double busy_seconds = 0;                 // inside StepBackend::step
  double last_step_seconds = 0;
  std::size_t last_step_decodes = 0;       // slots that decoded a token in the last step
  std::size_t queue_depth = 0;
  std::size_t active_slots = 0;
  std::size_t slots = 0;
};

// Tokens at the start of `a` and `b` that agree.
[[nodiscard]] std::size_t common_prefix(std::span<const std::int32_t> a, std::span<const std::int32_t> b);

class Scheduler {
public:
  // `backend` and `tokenizer` must outlive the scheduler.
  Scheduler(StepBackend& backend, const text::Tokenizer& tokenizer, SchedulerOptions options);

  // Queues a request; nullptr when the queue is full (or after shutdown).
  [[nodiscard]] std::shared_ptr<Job> submit(GenerationRequest request, Clock::time_point deadline);

  // One step: ends cancelled and timed-out jobs, admits queued ones to free
  // slots, runs one unit of work on every busy slot. False when idle.
  bool step();
  // step() until stop is requested, sleeping while there is nothing to do.
  void run(std::stop_token stop);
  // Ends every queued and running job (reason error, "the server is shutting
  // down"); later submits are refused. Call after run() has returned.
  void shutdown();

  [[nodiscard]] SchedulerMetrics metrics() const;

private:
  struct Running {
    std::shared_ptr<Job> job;
    std::size_t prefilled;     // prompt tokens in the cache (reused or run)
    std::size_t reused;
    std::int32_t last = -1;    // sampled, not yet run: the next decode step's input
    std::size_t generated = 0;
    text::StreamDecoder decoder;
    StopMatcher stops;
  };

  void admit();                                    // queue -> free slots
  void end(std::size_t slot, Outcome outcome);     // frees the slot
  void emit(std::size_t slot, std::int32_t token); // a sampled token: text, stop strings, limits
  [[nodiscard]] std::size_t choose_slot(std::span<const std::int32_t> prompt) const;

  StepBackend& backend_;
  const text::Tokenizer& tokenizer_;
  const SchedulerOptions options_;

  mutable std::mutex mutex_;  // queue_, metrics_, closed_
  std::condition_variable_any work_;
  std::deque<std::shared_ptr<Job>> queue_;
  SchedulerMetrics metrics_;
  bool closed_ = false;

  // The scheduler thread's own.
  std::vector<std::optional<Running>> running_;  // per slot
  std::vector<std::uint64_t> last_used_;         // per slot: the step it last ran
  std::size_t round_robin_ = 0;
};

}  // namespace pagoda::server
