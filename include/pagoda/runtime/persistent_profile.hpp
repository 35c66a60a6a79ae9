// The persistent decode step's profile (EngineOptions::persistent_profile)
// summarised: each item's %globaltimer stamps (its ticket in hand, its wait
// over, done) become, per op kind, the block time spent waiting and working,
// and the op's share of the step's critical path. The ops of a step form one
// chain (each waits for the one before it), so the step's span is the sum of
// each op instance's time from its input's last item done to its own last
// item done; that time splits into the latency before the first block starts
// on it (the signal reaching a waiting block) and its run (its items, and the
// tail of the slowest). Host-only, so the arithmetic is tested on the CPU
// (tests/runtime/persistent_profile_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pagoda/runtime/decode_schedule.hpp"

namespace pagoda::runtime {

// One item of the device's list, as the profile saw it.
struct ProfiledItem {
  DecodeOp op;                 // its kind
  std::uint32_t counter;       // its op instance (the counter it signals)
  std::uint32_t wait_counter;  // the op instance it waited for, or no_counter
  std::uint64_t taken, waited, done;  // ns: ticket in hand, wait over, finished
  std::uint32_t block;
};

struct OpKindProfile {
  DecodeOp op;
  std::size_t items = 0, instances = 0;
  double wait_ns = 0, work_ns = 0;     // block-time sums over its items
  double latency_ns = 0, run_ns = 0;   // critical-path sums over its instances
};

struct PersistentProfile {
  double span_ns = 0;       // first item taken to last item done
  double busy_share = 0;    // of span x blocks, the blocks' time inside items
  std::vector<OpKindProfile> kinds;  // in the order they first appear in the list
  [[nodiscard]] std::string text() const;
};

// Throws pagoda::Error if an item waits on an op instance no item signals.
[[nodiscard]] PersistentProfile summarize_persistent_profile(std::span<const ProfiledItem> items, unsigned grid);

}  // namespace pagoda::runtime
