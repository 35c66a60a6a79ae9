// One request on its way through the server: what the HTTP thread that
// received it and the scheduler thread that runs it share. The scheduler
// appends text and finally an outcome; the HTTP thread waits for either, and
// cancels the job when its client goes away (the scheduler then frees the
// slot at its next step). The scheduler never waits on a client: text piles
// up here (at most max_tokens of it) while a slow client reads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "request.hpp"

namespace pagoda::server {

using Clock = std::chrono::steady_clock;

enum class FinishReason {
  stop,       // end of generation token or a stop string (OpenAI's "stop")
  length,     // max_tokens, or the context is full (OpenAI's "length")
  cancelled,  // the client went away
  timeout,    // the request ran past the server's --timeout
  error,      // the engine failed
};

[[nodiscard]] constexpr const char* name_of(FinishReason reason) {
  switch (reason) {
    case FinishReason::stop: return "stop";
    case FinishReason::length: return "length";
    case FinishReason::cancelled: return "cancelled";
    case FinishReason::timeout: return "timeout";
    case FinishReason::error: return "error";
  }
  return "?";
}

struct Usage {
  std::size_t prompt_tokens = 0;      // the whole prompt
  std::size_t completion_tokens = 0;  // generated (an end-of-generation token is not counted)
  std::size_t cached_tokens = 0;      // of the prompt, reused from the slot's KV cache
};

struct Outcome {
  FinishReason reason = FinishReason::stop;
  Usage usage;
  std::string error;  // for timeout and error
};

class Job {
public:
  Job(GenerationRequest request, Clock::time_point deadline) : request_(std::move(request)), deadline_(deadline) {}

  [[nodiscard]] const GenerationRequest& request() const { return request_; }
  [[nodiscard]] Clock::time_point deadline() const { return deadline_; }

  // ---- the HTTP side ----
  void cancel() {
    const std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  struct Update {
    std::string text;              // arrived since the last wait
    std::optional<Outcome> end;    // set once, after the last text
  };
  // Waits until text or the end is there, or `timeout` passes; takes what arrived.
  [[nodiscard]] Update wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return !text_.empty() || end_; });
    Update update{std::move(text_), end_};
    text_.clear();
    return update;
  }

  // ---- the scheduler side ----
  [[nodiscard]] bool cancelled() const {
    const std::lock_guard lock(mutex_);
    return cancelled_;
  }
  void append(std::string_view text) {
    if (text.empty()) return;
    {
      const std::lock_guard lock(mutex_);
      text_ += text;
    }
    changed_.notify_all();
  }
  void finish(Outcome outcome) {
    {
      const std::lock_guard lock(mutex_);
      if (!end_) end_ = std::move(outcome);
    }
    changed_.notify_all();
  }
  [[nodiscard]] bool finished() const {
    const std::lock_guard lock(mutex_);
    return end_.has_value();
  }

private:
  const GenerationRequest request_;
  const Clock::time_point deadline_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;
  std::optional<Outcome> end_;
  bool cancelled_ = false;
};

}  // namespace pagoda::server
