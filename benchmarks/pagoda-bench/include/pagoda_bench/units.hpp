// Sizes and counts as the report prints them: llama-bench's "4.33 GiB" and
// "8.03 B", so tables from the two tools read alike.
#pragma once

#include <cstdint>
#include <string>

namespace pagoda::bench {

// Binary units with two decimals: "512 B", "1.50 KiB", "92.00 MiB", "4.33 GiB".
[[nodiscard]] std::string size_text(std::uint64_t bytes);
// With a sign: "+1.00 GiB", "-4.00 MiB", "0 B".
[[nodiscard]] std::string signed_size_text(std::int64_t bytes);
// Decimal units with two decimals: "8.03 B", "134.52 M", "900.00 K", "12".
[[nodiscard]] std::string count_text(std::uint64_t count);
// "10234.12 ± 45.10", llama-bench's t/s cell.
[[nodiscard]] std::string mean_stddev_text(double mean, double stddev);

}  // namespace pagoda::bench
