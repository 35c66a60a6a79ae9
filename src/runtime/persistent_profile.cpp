#include "pagoda/runtime/persistent_profile.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"

namespace pagoda::runtime {

PersistentProfile summarize_persistent_profile(std::span<const ProfiledItem> items, unsigned grid) {
  PersistentProfile profile;
  if (items.empty()) return profile;
  struct Instance {
    DecodeOp op{};
    std::uint32_t wait_counter = no_counter;
    std::uint64_t first_waited = std::numeric_limits<std::uint64_t>::max(), last_done = 0;
  };
  std::map<std::uint32_t, Instance> instances;  // by counter
  std::uint64_t first = std::numeric_limits<std::uint64_t>::max(), last = 0;
  std::vector<double> busy(grid, 0.0);
  std::map<DecodeOp, std::size_t> kind_index;
  for (const ProfiledItem& item : items) {
    first = std::min(first, item.taken);
    last = std::max(last, item.done);
    if (item.block < busy.size()) busy[item.block] += static_cast<double>(item.done - item.taken);
    auto [at, added] = kind_index.try_emplace(item.op, profile.kinds.size());
    if (added) profile.kinds.push_back({.op = item.op});
    OpKindProfile& kind = profile.kinds[at->second];
    ++kind.items;
    kind.wait_ns += static_cast<double>(item.waited - item.taken);
    kind.work_ns += static_cast<double>(item.done - item.waited);
    Instance& instance = instances[item.counter];
    instance.op = item.op;
    instance.wait_counter = item.wait_counter;
    instance.first_waited = std::min(instance.first_waited, item.waited);
    instance.last_done = std::max(instance.last_done, item.done);
  }
  profile.span_ns = static_cast<double>(last - first);
  double busy_total = 0;
  for (const double b : busy) busy_total += b;
  profile.busy_share = profile.span_ns > 0 && grid > 0 ? busy_total / (profile.span_ns * grid) : 0.0;
  // Each instance from its input's last item done (the step's first ticket
  // for one that waits on nothing in the list) to its own last item done.
  for (const auto& [counter, instance] : instances) {
    std::uint64_t ready = first;
    if (instance.wait_counter != no_counter) {
      const auto input = instances.find(instance.wait_counter);
      if (input == instances.end())
        fail("persistent profile: {} (op {}) waits on op {}, which no item signals", name_of(instance.op), counter,
             instance.wait_counter);
      ready = input->second.last_done;
    }
    OpKindProfile& kind = profile.kinds[kind_index.at(instance.op)];
    ++kind.instances;
    const std::uint64_t start = std::max(ready, std::min(instance.first_waited, instance.last_done));
    kind.latency_ns += static_cast<double>(start - ready);
    kind.run_ns += static_cast<double>(instance.last_done > start ? instance.last_done - start : 0);
  }
  return profile;
}

std::string PersistentProfile::text() const {
  std::string out = fmt::format("persistent step profile: {:.1f} us from the first item taken to the last done; "
                                "blocks busy {:.0f}% of it (waiting or working), idle the rest",
                                span_ns / 1e3, 100.0 * busy_share);
  double chain = 0;
  for (const OpKindProfile& k : kinds) chain += k.latency_ns + k.run_ns;
  out += fmt::format("\n  critical path {:.1f} us: each op from its input done to its last item done, "
                     "= latency to its first block + its run",
                     chain / 1e3);
  for (const OpKindProfile& k : kinds) {
    const double per = k.instances > 0 ? 1e3 * static_cast<double>(k.instances) : 1e3;
    out += fmt::format("\n  {}: {} items of {} ops; on the path {:.1f} us ({:.0f}%), an op {:.2f} us latency + "
                       "{:.2f} us run; block-time sums waiting {:.1f} us, working {:.1f} us",
                       name_of(k.op), k.items, k.instances, (k.latency_ns + k.run_ns) / 1e3,
                       chain > 0 ? 100.0 * (k.latency_ns + k.run_ns) / chain : 0.0, k.latency_ns / per,
                       k.run_ns / per, k.wait_ns / 1e3, k.work_ns / 1e3);
  }
  return out;
}

}  // namespace pagoda::runtime
