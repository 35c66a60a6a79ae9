// The placement report prints as one line carrying every number and fallback.
#include <doctest/doctest.h>

#include <sstream>

#include "pagoda/mapping/placement_report.hpp"

using namespace pagoda::mapping;

TEST_CASE("a placement report prints in one line with its policy, numbers and fallbacks") {
  PlacementReport report;
  report.policy = PolicyId::hugepage_import;
  report.residence = Residence::host;
  report.where = "anonymous memory on transparent huge pages (2.00 MiB)";
  report.fill_path = "O_DIRECT reads";
  report.tensor_bytes = 4'650'000'000;
  report.vram_delta_bytes = -2 << 20;
  report.host_registered_bytes = 4'651'483'136;
  report.page_bytes = 2 << 20;
  report.fallbacks = {"hugetlb 2.00 MiB pages: 0 free, 2218 needed", "no hugetlb pages: transparent huge pages"};
  const std::string line = to_string(report);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.starts_with("hugepage-import (host memory): 4.33 GiB of tensors"));
  CHECK(line.find("measured delta -2.00 MiB") != std::string::npos);
  CHECK(line.find("fallbacks: hugetlb 2.00 MiB pages: 0 free, 2218 needed; no hugetlb pages") != std::string::npos);
  std::ostringstream out;
  out << report;
  CHECK(out.str() == line);
}

TEST_CASE("a report without fallbacks says so") {
  CHECK(to_string(PlacementReport{}).find("no fallbacks") != std::string::npos);
}
