// One streaming-read measurement (stream_read.hpp), as a plain value.
#pragma once

#include <cstdint>

namespace pagoda::bench {

// `bytes` read `passes` times; the median pass's rate.
struct LinkMeasurement {
  double gb_s = 0;  // 1e9 B/s
  std::uint64_t bytes = 0;
  int passes = 0;
};

}  // namespace pagoda::bench
