// Seconds elapsed since construction: the load timings of a placement report
// and of an engine.
#pragma once

#include <chrono>

namespace pagoda {

class Stopwatch {
public:
  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace pagoda
