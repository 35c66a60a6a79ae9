#include "step_timeline.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"

namespace pagoda::bench {

void start_step_timeline(const std::string& path) {
  std::ofstream out(path, std::ios::trunc);
  out << "model,test,tag,event,ns,block,grid,detail,cols,sm\n";
  if (!out) throw Error("--step-timeline: " + path + ": cannot be written");
}

void append_step_timeline(const std::string& path, std::string_view model, std::string_view test,
                          const kernels::step_stamps::Read& step) {
  if (step.dropped != 0)
    throw Error(fmt::format("--step-timeline: the step wrote {} stamps more than the log holds ({})", step.dropped,
                            step.stamps.size()));
  std::uint64_t first = UINT64_MAX;
  for (const auto& s : step.stamps) first = std::min(first, s.time_ns);
  std::ofstream out(path, std::ios::app);
  for (const auto& s : step.stamps)
    out << fmt::format("{},{},{},{},{},{},{},{},{},{}\n", model, test, kernels::to_string(s.tag),
                       kernels::to_string(s.event), s.time_ns - first, s.block, s.grid, s.detail, s.cols, s.sm);
  if (!out) throw Error("--step-timeline: " + path + ": cannot be written");
}

}  // namespace pagoda::bench
