// Step stamps: a profiling build's (cmake -DPAGODA_STEP_STAMPS=ON) record of
// when each block of the decode step's kernels started, passed its PDL wait,
// had x ready and finished, in %globaltimer ns, so that the time of a real
// graph step (programmatic launches overlapping) can be split kernel by
// kernel; ncu runs each kernel alone and cannot say that. In an ordinary
// build the kernels contain no stamp code and enable() refuses.
//
// The kernels write through a log that every CUDA unit holds as its own
// device symbol (no relocatable device code): each unit registers a setter,
// and enable() calls them all. Enable before an engine captures its graphs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pagoda::kernels {

// Which kernel wrote a stamp.
enum class StampTag : std::uint16_t {
  gemv,             // gemv_streams_kernel, plain rows (detail: rows; GEMVs also give their cols)
  gemv_rope_kv,     // q, k and v with RoPE and the KV append (detail: rows)
  gemv_gated,       // gate and up with the activation (detail: gate rows)
  gemv_pair,        // q/k/v of two formats in one launch (detail: rows)
  attention_split,  // attention decode, a split block (detail: splits)
  attention_merge,  // attention decode, the merge (detail: splits)
};
// What the block had reached: start (first instruction), waited (past its
// PDL wait), ready (x in shared memory, the products may start), done (every
// warp of the block finished).
enum class StampEvent : std::uint16_t { start, waited, ready, done };

[[nodiscard]] std::string_view to_string(StampTag tag);
[[nodiscard]] std::string_view to_string(StampEvent event);

struct StepStamp {
  std::uint64_t time_ns;  // %globaltimer
  std::uint32_t block;    // linear block index
  std::uint32_t grid;     // blocks in the launch
  std::uint32_t detail;   // per tag, above
  std::uint32_t sm;       // %smid
  StampTag tag;
  StampEvent event;
  std::uint32_t cols;     // a GEMV's columns, else 0
};
static_assert(sizeof(StepStamp) == 32);

// The device side of the log: null records = off.
struct StepStampLog {
  StepStamp* records = nullptr;
  std::uint32_t* cursor = nullptr;
  std::uint32_t capacity = 0;
};

namespace step_stamps {

// Whether this build's kernels stamp (PAGODA_STEP_STAMPS).
[[nodiscard]] bool compiled_in();
// Called once per CUDA unit by step_stamps.cuh (static initialisation).
using LogSetter = void (*)(const StepStampLog&);
bool register_unit(LogSetter setter);
// Allocates room for `capacity` stamps on the current device and points
// every unit's kernels at it. Throws pagoda::Error in an ordinary build.
void enable(std::size_t capacity);
// Empties the log (synchronises the device).
void reset();
// The stamps written since the last reset(), up to the capacity, in the
// order their blocks took a slot; and how many were dropped for room.
struct Read {
  std::vector<StepStamp> stamps;
  std::size_t dropped = 0;
};
[[nodiscard]] Read read();

}  // namespace step_stamps

}  // namespace pagoda::kernels
