#include "scheduler.hpp"

#include <algorithm>
#include <exception>

#include <fmt/format.h>

namespace pagoda::server {

std::size_t common_prefix(std::span<const std::int32_t> a, std::span<const std::int32_t> b) {
  const auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return static_cast<std::size_t>(ia - a.begin());
}

Scheduler::Scheduler(StepBackend& backend, const text::Tokenizer& tokenizer, SchedulerOptions options)
    : backend_(backend),
      tokenizer_(tokenizer),
      options_(options),
      running_(backend.slots()),
      last_used_(backend.slots(), 0) {
  if (backend.slots() == 0) throw std::invalid_argument("scheduler: the backend has no slots");
  if (options.prefill_chunk == 0) throw std::invalid_argument("scheduler: prefill_chunk must be at least 1");
  metrics_.slots = backend.slots();
}

std::shared_ptr<Job> Scheduler::submit(GenerationRequest request, Clock::time_point deadline) {
  auto job = std::make_shared<Job>(std::move(request), deadline);
  {
    const std::lock_guard lock(mutex_);
    if (closed_ || queue_.size() >= options_.max_queue) {
      ++metrics_.requests_rejected;
      return nullptr;
    }
    queue_.push_back(job);
    ++metrics_.requests_submitted;
    metrics_.queue_depth = queue_.size();
  }
  work_.notify_all();
  return job;
}

std::size_t Scheduler::choose_slot(std::span<const std::int32_t> prompt) const {
  std::optional<std::size_t> best;
  std::size_t best_prefix = 0;
  for (std::size_t slot = 0; slot < running_.size(); ++slot) {
    if (running_[slot]) continue;
    const std::size_t prefix = common_prefix(backend_.cached(slot), prompt);
    if (!best || prefix > best_prefix || (prefix == best_prefix && last_used_[slot] < last_used_[*best])) {
      best = slot;
      best_prefix = prefix;
    }
  }
  return *best;  // admit() calls this only while a slot is free
}

void Scheduler::admit() {
  const auto free_slots = [&] {
    return static_cast<std::size_t>(std::count(running_.begin(), running_.end(), std::nullopt));
  };
  while (free_slots() > 0) {
    std::shared_ptr<Job> job;
    {
      const std::lock_guard lock(mutex_);
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      metrics_.queue_depth = queue_.size();
    }
    const auto& request = job->request();
    const std::size_t slot = choose_slot(request.prompt);
    // At least one prompt token runs, so there are logits to sample from.
    std::size_t reuse = common_prefix(backend_.cached(slot), request.prompt);
    if (reuse == request.prompt.size()) --reuse;
    backend_.rewind(slot, reuse);
    running_[slot].emplace(Running{.job = std::move(job),
                                   .prefilled = reuse,
                                   .reused = reuse,
                                   .decoder = text::StreamDecoder(tokenizer_),
                                   .stops = StopMatcher(request.stop)});
    const std::lock_guard lock(mutex_);
    metrics_.cached_prompt_tokens += reuse;
  }
}

void Scheduler::end(std::size_t slot, Outcome outcome) {
  auto& running = *running_[slot];
  outcome.usage = {.prompt_tokens = running.job->request().prompt.size(),
                   .completion_tokens = running.generated,
                   .cached_tokens = running.reused};
  {
    const std::lock_guard lock(mutex_);
    ++metrics_.requests_finished;
    if (outcome.reason == FinishReason::cancelled) ++metrics_.requests_cancelled;
    if (outcome.reason == FinishReason::timeout) ++metrics_.requests_timed_out;
    if (outcome.reason == FinishReason::error) ++metrics_.requests_failed;
  }
  running.job->finish(std::move(outcome));
  running_[slot].reset();
}

void Scheduler::emit(std::size_t slot, std::int32_t token) {
  auto& running = *running_[slot];
  const auto& request = running.job->request();
  if (tokenizer_.is_end_of_generation(token)) {
    running.job->append(running.stops.feed(running.decoder.flush()).text);
    running.job->append(running.stops.flush());
    end(slot, {.reason = FinishReason::stop});
    return;
  }
  ++running.generated;
  {
    const std::lock_guard lock(mutex_);
    ++metrics_.generated_tokens;
  }
  const auto released = running.stops.feed(running.decoder.feed(token));
  running.job->append(released.text);
  if (released.stopped) {
    end(slot, {.reason = FinishReason::stop});
    return;
  }
  // The next decode step would run `token` at position prompt + generated - 1.
  const bool context_full = request.prompt.size() + running.generated >= backend_.context_size();
  if (running.generated >= request.max_tokens || context_full) {
    const auto last = running.stops.feed(running.decoder.flush());
    running.job->append(last.text);
    if (!last.stopped) running.job->append(running.stops.flush());
    end(slot, {.reason = last.stopped ? FinishReason::stop : FinishReason::length});
    return;
  }
  running.last = token;
}

bool Scheduler::step() {
  const auto now = Clock::now();
  // Queued jobs whose client left or whose time ran out never take a slot.
  {
    std::vector<std::shared_ptr<Job>> dropped;
    {
      const std::lock_guard lock(mutex_);
      const auto gone = [&](const std::shared_ptr<Job>& job) {
        if (!job->cancelled() && job->deadline() > now) return false;
        dropped.push_back(job);
        return true;
      };
      queue_.erase(std::remove_if(queue_.begin(), queue_.end(), gone), queue_.end());
      metrics_.queue_depth = queue_.size();
      metrics_.requests_finished += dropped.size();
    }
    for (const auto& job : dropped) {
      const bool cancelled = job->cancelled();
      {
        const std::lock_guard lock(mutex_);
        ++(cancelled ? metrics_.requests_cancelled : metrics_.requests_timed_out);
      }
      job->finish({.reason = cancelled ? FinishReason::cancelled : FinishReason::timeout,
                   .usage = {.prompt_tokens = job->request().prompt.size()},
                   .error = cancelled ? "" : "the request timed out while waiting for a slot"});
    }
  }
  for (std::size_t slot = 0; slot < running_.size(); ++slot) {
    if (!running_[slot]) continue;
    if (running_[slot]->job->cancelled())
      end(slot, {.reason = FinishReason::cancelled});
    else if (running_[slot]->job->deadline() <= now)
      end(slot, {.reason = FinishReason::timeout, .error = "the request timed out (the server's --timeout)"});
  }
  admit();

  // One unit of work per busy slot, starting where the last step left off.
  std::vector<StepItem> items;
  const std::size_t n = running_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t slot = (round_robin_ + i) % n;
    if (!running_[slot]) continue;
    auto& running = *running_[slot];
    const auto& prompt = running.job->request().prompt;
    if (running.prefilled < prompt.size()) {
      const std::size_t count = std::min(options_.prefill_chunk, prompt.size() - running.prefilled);
      const bool last_chunk = running.prefilled + count == prompt.size();
      items.push_back({.slot = slot,
                       .tokens = std::span(prompt).subspan(running.prefilled, count),
                       .restart_sampling = last_chunk ? &running.job->request().sampling : nullptr});
    } else {
      items.push_back({.slot = slot, .tokens = std::span(&running.last, 1)});
    }
  }
  round_robin_ = (round_robin_ + 1) % n;
  if (items.empty()) {
    const std::lock_guard lock(mutex_);
    metrics_.active_slots = 0;
    return false;
  }

  const auto start = Clock::now();
  try {
    backend_.step(items);
  } catch (const std::exception& e) {
    // The engines' state is unknown: every slot of this step starts afresh.
    for (const auto& item : items) {
      backend_.rewind(item.slot, 0);
      end(item.slot, {.reason = FinishReason::error, .error = fmt::format("the engine failed: {}", e.what())});
    }
    return true;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::size_t decodes = 0, prefilled = 0;
  std::uint64_t step_number = 0;
  {
    const std::lock_guard lock(mutex_);
    step_number = ++metrics_.steps;
  }
  for (const auto& item : items) {
    auto& running = *running_[item.slot];
    last_used_[item.slot] = step_number;
    const auto& prompt = running.job->request().prompt;
    if (running.prefilled < prompt.size()) {
      running.prefilled += item.tokens.size();
      prefilled += item.tokens.size();
      if (running.prefilled < prompt.size()) continue;  // more of the prompt to run: this sample is not used
    } else {
      ++decodes;
    }
    emit(item.slot, item.next);
  }
  const std::lock_guard lock(mutex_);
  metrics_.active_slots = static_cast<std::size_t>(
      std::count_if(running_.begin(), running_.end(), [](const auto& r) { return r.has_value(); }));
  metrics_.busy_seconds += seconds;
  metrics_.last_step_seconds = seconds;
  metrics_.last_step_decodes = decodes;
  metrics_.prompt_tokens += prefilled;
  return true;
}

void Scheduler::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (step()) continue;
    std::unique_lock lock(mutex_);
    // Idle: wake for a new request, or now and then to drop queued jobs whose client left.
    work_.wait_for(lock, stop, std::chrono::milliseconds(200), [&] { return !queue_.empty(); });
  }
}

void Scheduler::shutdown() {
  std::deque<std::shared_ptr<Job>> queued;
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    queued.swap(queue_);
    metrics_.queue_depth = 0;
  }
  for (const auto& job : queued) job->finish({.reason = FinishReason::error, .error = "the server is shutting down"});
  for (std::size_t slot = 0; slot < running_.size(); ++slot)
    if (running_[slot]) end(slot, {.reason = FinishReason::error, .error = "the server is shutting down"});
}

SchedulerMetrics Scheduler::metrics() const {
  const std::lock_guard lock(mutex_);
  SchedulerMetrics out = metrics_;
  return out;
}

}  // namespace pagoda::server
