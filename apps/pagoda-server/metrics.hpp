// GET /metrics: the scheduler's counters and the HTTP requests by endpoint
// and status, in Prometheus' text format (what llama-server's /metrics
// speaks too), so a scraper or `curl | grep` reads them alike.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "scheduler.hpp"

namespace pagoda::server {

// Requests answered, by (path, status). Thread-safe.
class HttpCounters {
public:
  void count(const std::string& path, int status) {
    const std::lock_guard lock(mutex_);
    ++counts_[{path, status}];
  }
  [[nodiscard]] std::map<std::pair<std::string, int>, std::uint64_t> snapshot() const {
    const std::lock_guard lock(mutex_);
    return counts_;
  }

private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> counts_;
};

// The text of /metrics.
[[nodiscard]] std::string render_metrics(const SchedulerMetrics& scheduler,
                                         const std::map<std::pair<std::string, int>, std::uint64_t>& http);

}  // namespace pagoda::server
