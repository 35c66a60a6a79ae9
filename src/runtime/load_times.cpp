#include "pagoda/runtime/load_times.hpp"

#include <ostream>

#include <fmt/format.h>

namespace pagoda::runtime {

std::string to_string(const LoadTimes& t) {
  return fmt::format("model binding {:.3f} s, policy {:.3f} s, device model {:.3f} s, engine core {:.3f} s (total {:.3f} s)",
                     t.model_binding, t.policy, t.device_model, t.engine_core, t.total);
}

std::ostream& operator<<(std::ostream& out, const LoadTimes& times) { return out << to_string(times); }

}  // namespace pagoda::runtime
