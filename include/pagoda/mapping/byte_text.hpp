// Byte counts for people: "4.33 GiB", "512 MiB", "17 B" — in every message
// and report of the mapping layer, so sizes read the same everywhere.
#pragma once

#include <cstdint>
#include <string>

namespace pagoda::mapping {

// Binary units, three significant digits above 1 KiB; exact bytes below.
[[nodiscard]] std::string bytes_text(std::uint64_t bytes);

}  // namespace pagoda::mapping
