// The machine pagoda-bench runs on: the probed device and the two measured
// streaming-read bandwidths every roofline is taken against.
#pragma once

#include <cstdint>

#include "pagoda/mapping/capabilities.hpp"
#include "pagoda_bench/results.hpp"

namespace pagoda::bench {

// Measures VRAM and pinned-host streaming reads over `probe_bytes` each
// (progress on stderr). A host probe that fails (memlock limit, no pinned
// memory) leaves host_read empty with the reason; a device probe that fails throws.
[[nodiscard]] MachineInfo describe_machine(const mapping::DeviceCapabilities& device, std::uint64_t probe_bytes);

}  // namespace pagoda::bench
