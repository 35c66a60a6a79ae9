// The host sink of step stamps (kernels/step_stamps.hpp).
#include "pagoda/kernels/step_stamps.hpp"

#include <mutex>
#include <string>

#include <cuda_runtime.h>

#include "pagoda/core/cuda_check.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda/core/error.hpp"

namespace pagoda::kernels {

std::string_view to_string(StampTag tag) {
  switch (tag) {
    case StampTag::gemv: return "gemv";
    case StampTag::gemv_rope_kv: return "gemv_rope_kv";
    case StampTag::gemv_gated: return "gemv_gated";
    case StampTag::gemv_pair: return "gemv_pair";
    case StampTag::attention_split: return "attention_split";
    case StampTag::attention_merge: return "attention_merge";
  }
  return "?";
}

std::string_view to_string(StampEvent event) {
  switch (event) {
    case StampEvent::start: return "start";
    case StampEvent::waited: return "waited";
    case StampEvent::ready: return "ready";
    case StampEvent::done: return "done";
  }
  return "?";
}

namespace step_stamps {

namespace {

struct Sink {
  std::mutex mutex;
  std::vector<LogSetter> setters;
  DeviceBuffer records, cursor;
  std::size_t capacity = 0;
};

Sink& sink() {
  static Sink s;  // built on first use: units register during static initialisation
  return s;
}

}  // namespace

bool compiled_in() {
#if defined(PAGODA_STEP_STAMPS)
  return true;
#else
  return false;
#endif
}

bool register_unit(LogSetter setter) {
  Sink& s = sink();
  const std::lock_guard lock(s.mutex);
  s.setters.push_back(setter);
  return true;
}

void enable(std::size_t capacity) {
  if (!compiled_in())
    throw Error("step stamps: this build has none (configure with -DPAGODA_STEP_STAMPS=ON for a profiling build)");
  if (capacity == 0 || capacity > 0xffffffffu) throw Error("step stamps: capacity must be 1 .. 2^32 - 1 stamps");
  Sink& s = sink();
  const std::lock_guard lock(s.mutex);
  s.records = DeviceBuffer(capacity * sizeof(StepStamp), "step stamps");
  s.cursor = DeviceBuffer(sizeof(std::uint32_t), "step stamp cursor");
  s.capacity = capacity;
  check_cuda(cudaMemset(s.cursor.data(), 0, sizeof(std::uint32_t)), "cudaMemset(step stamp cursor)");
  const StepStampLog log{reinterpret_cast<StepStamp*>(s.records.data()), reinterpret_cast<std::uint32_t*>(s.cursor.data()),
                         static_cast<std::uint32_t>(capacity)};
  for (LogSetter set : s.setters) set(log);
}

void reset() {
  Sink& s = sink();
  const std::lock_guard lock(s.mutex);
  if (s.capacity == 0) throw Error("step stamps: not enabled");
  check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize (step stamps)");
  check_cuda(cudaMemset(s.cursor.data(), 0, sizeof(std::uint32_t)), "cudaMemset(step stamp cursor)");
  check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize (step stamps)");
}

Read read() {
  Sink& s = sink();
  const std::lock_guard lock(s.mutex);
  if (s.capacity == 0) throw Error("step stamps: not enabled");
  check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize (step stamps)");
  std::uint32_t written = 0;
  check_cuda(cudaMemcpy(&written, s.cursor.data(), sizeof written, cudaMemcpyDeviceToHost), "cudaMemcpy(step stamp cursor)");
  Read r;
  const std::size_t kept = written < s.capacity ? written : s.capacity;
  r.dropped = written - kept;
  r.stamps.resize(kept);
  check_cuda(cudaMemcpy(r.stamps.data(), s.records.data(), kept * sizeof(StepStamp), cudaMemcpyDeviceToHost),
             "cudaMemcpy(step stamps)");
  return r;
}

}  // namespace step_stamps

}  // namespace pagoda::kernels
