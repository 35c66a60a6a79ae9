// ctest support.runtime_skip: PAGODA_SKIP through the skip-aware reporter, as
// the GPU suite's main uses it. Runs two cases — one skips, one passes — with
// the reporter writing to a buffer, then checks what it wrote: the skipped
// case named with its reason, listed before the summary, and counted as
// skipped, not passed. Exits non-zero, saying what is wrong, otherwise.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <iostream>
#include <sstream>

#include "support/skip_reporter.hpp"

TEST_CASE("a case that cannot run here is skipped, with its reason") {
  const bool capability_present = false;
  if (!capability_present) PAGODA_SKIP("the capability is absent on this machine");
  FAIL("not reached");
}

TEST_CASE("a case that runs passes as usual") { CHECK(1 + 1 == 2); }

int main(int argc, char** argv) {
  std::ostringstream out;
  doctest::Context context;
  pagoda::test::use_skip_aware_reporter(context, argc, argv);
  context.applyCommandLine(argc, argv);
  context.setOption("no-colors", true);
  context.setCout(&out);
  const int status = context.run();
  const std::string text = out.str();
  std::cout << text;
  int wrong = 0;
  for (const char* expected :
       {"a case that cannot run here is skipped, with its reason: the capability is absent on this machine\n",
        "[doctest] skipped at run time: 1 test case (they did not run here; not passed)\n",
        "[doctest] test cases: 1 | 1 passed | 0 failed | 1 skipped\n"})
    if (text.find(expected) == std::string::npos) {
      std::cout << "FAIL: the reporter did not write: " << expected;
      ++wrong;
    }
  if (text.find("SKIPPED: ") == std::string::npos) std::cout << "FAIL: no SKIPPED line\n", ++wrong;
  return status != 0 || wrong != 0 ? 1 : 0;
}
