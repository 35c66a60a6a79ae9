// The skip-aware reporter for PAGODA_SKIP (skip.hpp): doctest's console
// reporter, plus run-time skips. Included by exactly one translation unit, the
// main() that defines DOCTEST_CONFIG_IMPLEMENT (doctest's ConsoleReporter is
// visible only there), which makes "pagoda" the default reporter with
// use_skip_aware_reporter().
//
// A skipped case prints "SKIPPED: <file>(<line>) <case>: <reason>" when it
// ends; it is not counted as passed but as skipped in doctest's summary line
// ("test cases: 90 | 90 passed | 0 failed | 3 skipped", where the skipped also
// hold the cases a filter left out), and the summary is preceded by
// "[doctest] skipped at run time: N test cases (they did not run here)" and
// one line per case. A case that failed a check before skipping counts as failed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "support/skip.hpp"

namespace pagoda::test {

namespace {  // doctest's ConsoleReporter lives in an unnamed namespace of this one translation unit

class SkipAwareReporter : public doctest::ConsoleReporter {
public:
  explicit SkipAwareReporter(const doctest::ContextOptions& options) : ConsoleReporter(options) {
    runtime_skips().reporter_active = true;
  }

  void test_case_start(const doctest::TestCaseData& in) override {
    ConsoleReporter::test_case_start(in);
    runtime_skips().reason.reset();
  }

  void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
    ConsoleReporter::test_case_end(stats);
    auto& reason = runtime_skips().reason;
    if (reason && stats.testCaseSuccess) {
      const std::string where = std::string(doctest::skipPathFromFilename(tc->m_file.c_str())) + "(" +
                                std::to_string(tc->m_line) + ")";
      skipped_.push_back(where + " " + tc->m_name + ": " + *reason);
      s << "SKIPPED: " << skipped_.back() << '\n';
    }
    reason.reset();
  }

  void test_run_end(const doctest::TestRunStats& stats) override {
    doctest::TestRunStats counted = stats;
    const auto skips = static_cast<unsigned>(skipped_.size());
    counted.numTestCasesPassingFilters -= skips;  // doctest's summary counts them as skipped, not passed
    if (skips > 0) {
      s << "[doctest] skipped at run time: " << skips << " test case" << (skips == 1 ? "" : "s")
        << " (they did not run here; not passed)\n";
      for (const auto& line : skipped_) s << "[doctest]   " << line << '\n';
    }
    ConsoleReporter::test_run_end(counted);
  }

private:
  std::vector<std::string> skipped_;
};

}  // namespace

// Makes the skip-aware reporter the default, unless the command line names reporters.
inline void use_skip_aware_reporter(doctest::Context& context, int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.find("reporters") != std::string_view::npos || arg.starts_with("-r=") || arg.starts_with("--r=") ||
        arg.starts_with("-dt-r=") || arg.starts_with("--dt-r="))
      return;
  }
  context.setOption("reporters", "pagoda");
}

}  // namespace pagoda::test

DOCTEST_REGISTER_REPORTER("pagoda", 1, pagoda::test::SkipAwareReporter);
