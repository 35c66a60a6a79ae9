#include "metrics.hpp"

#include <fmt/format.h>

namespace pagoda::server {

namespace {

void metric(std::string& out, const char* name, const char* type, const char* help, double value) {
  out += fmt::format("# HELP pagoda_{0} {1}\n# TYPE pagoda_{0} {2}\npagoda_{0} {3}\n", name, help, type, value);
}

}  // namespace

std::string render_metrics(const SchedulerMetrics& s,
                           const std::map<std::pair<std::string, int>, std::uint64_t>& http) {
  std::string out;
  out += "# HELP pagoda_http_requests_total HTTP requests answered, by path and status.\n"
         "# TYPE pagoda_http_requests_total counter\n";
  for (const auto& [key, count] : http)
    out += fmt::format("pagoda_http_requests_total{{path=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, count);
  metric(out, "requests_submitted_total", "counter", "Generation requests queued.", double(s.requests_submitted));
  metric(out, "requests_rejected_total", "counter", "Generation requests refused: the queue was full (503).",
         double(s.requests_rejected));
  metric(out, "requests_finished_total", "counter", "Generation requests ended, by any outcome.",
         double(s.requests_finished));
  metric(out, "requests_cancelled_total", "counter", "Generation requests whose client went away.",
         double(s.requests_cancelled));
  metric(out, "requests_timed_out_total", "counter", "Generation requests past --timeout.",
         double(s.requests_timed_out));
  metric(out, "requests_failed_total", "counter", "Generation requests the engine failed.", double(s.requests_failed));
  metric(out, "prompt_tokens_total", "counter", "Prompt tokens run (prefilled).", double(s.prompt_tokens));
  metric(out, "prompt_tokens_cached_total", "counter", "Prompt tokens reused from a slot's KV cache.",
         double(s.cached_prompt_tokens));
  metric(out, "tokens_generated_total", "counter", "Tokens generated.", double(s.generated_tokens));
  metric(out, "steps_total", "counter", "Scheduler steps run.", double(s.steps));
  metric(out, "busy_seconds_total", "counter", "Seconds the engines spent in steps.", s.busy_seconds);
  metric(out, "tokens_per_second", "gauge", "Tokens (prompt and generated) per busy second, since the start.",
         s.busy_seconds > 0 ? double(s.prompt_tokens + s.generated_tokens) / s.busy_seconds : 0.0);
  metric(out, "decode_tokens_per_second", "gauge", "Tokens generated per second in the last step (all slots).",
         s.last_step_seconds > 0 ? double(s.last_step_decodes) / s.last_step_seconds : 0.0);
  metric(out, "queue_depth", "gauge", "Requests waiting for a slot.", double(s.queue_depth));
  metric(out, "slots_busy", "gauge", "Slots running a request.", double(s.active_slots));
  metric(out, "slots", "gauge", "Slots (-np).", double(s.slots));
  return out;
}

}  // namespace pagoda::server
