// A test case that cannot run on this machine (a capability the device or the
// kernel lacks, found only at run time) says so and stops:
//
//   if (!device.host_register_read_only_supported) PAGODA_SKIP("no read-only registration on this device");
//
// doctest 2.4.9 skips only statically (the doctest::skip() decorator), and a
// case that returns early is counted as passed. PAGODA_SKIP records the reason;
// the skip-aware reporter (skip_reporter.hpp, the GPU suite's main) prints the
// case as SKIPPED with it, leaves it out of the passed count, adds it to the
// summary's skipped count and lists every such case before the summary.
#pragma once

#include <optional>
#include <string>

#include <doctest/doctest.h>

namespace pagoda::test {

struct RuntimeSkips {
  bool reporter_active = false;       // set by the skip-aware reporter; without it a skip would read as a pass
  std::optional<std::string> reason;  // the current case's, when it skipped
};

inline RuntimeSkips& runtime_skips() {
  static RuntimeSkips skips;
  return skips;
}

// Marks the current test case skipped; the caller returns right after (PAGODA_SKIP does).
inline void skip_current_case(std::string reason) {
  if (!runtime_skips().reporter_active)
    FAIL("skipped (" << reason << "), but this executable's main() has no skip-aware reporter "
                     "(tests/support/skip_reporter.hpp): a skip must not read as a pass");
  runtime_skips().reason = std::move(reason);
}

}  // namespace pagoda::test

// Skips the rest of the current test case, saying why. Use in the case's own body (it returns).
#define PAGODA_SKIP(reason)                          \
  do {                                               \
    ::pagoda::test::skip_current_case(reason);      \
    return;                                          \
  } while (false)
