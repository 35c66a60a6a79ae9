// pagoda-bench --step-timeline: one decode step's kernel stamps
// (kernels/step_stamps.hpp, a profiling build's) as CSV, one row a stamp:
// model, test, tag, event, ns since the step's first stamp, block, grid,
// detail, cols, SM. A launch is a tag's `grid` consecutive start stamps.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "pagoda/kernels/step_stamps.hpp"

namespace pagoda::bench {

// Room in the device log: an 8B step writes ~70 K stamps.
inline constexpr std::size_t step_timeline_capacity = std::size_t{1} << 20;

// Creates (truncates) `path` with the header row; throws pagoda::Error if it cannot.
void start_step_timeline(const std::string& path);
// Appends one step's stamps; throws pagoda::Error if the file cannot be written.
void append_step_timeline(const std::string& path, std::string_view model, std::string_view test,
                          const kernels::step_stamps::Read& step);

}  // namespace pagoda::bench
