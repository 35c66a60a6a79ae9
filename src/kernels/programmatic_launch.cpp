#include "pagoda/kernels/programmatic_launch.hpp"

#include <atomic>

namespace pagoda::kernels {

namespace {
std::atomic<bool> enabled{true};
}  // namespace

bool programmatic_launch_enabled() { return enabled.load(std::memory_order_relaxed); }
void set_programmatic_launch(bool on) { enabled.store(on, std::memory_order_relaxed); }

}  // namespace pagoda::kernels
