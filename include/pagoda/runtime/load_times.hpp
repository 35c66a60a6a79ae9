// Where an engine's load went, as a value: the pieces of constructing
// Engine<Policy>, so a slow load points at its stage (pagoda-bench -v prints
// it). The policy's own split (allocate, copy, release, ...) is in its
// PlacementReport.
#pragma once

#include <iosfwd>
#include <string>

namespace pagoda::runtime {

struct LoadTimes {
  double model_binding = 0;  // hyperparameters read and every tensor bound to its role (CPU)
  double policy = 0;         // the mapping policy's construction: the weights placed
  double device_model = 0;   // norm weights and biases uploaded, matrices bound to device pointers
  double engine_core = 0;    // KV cache, activations, sampler, stream
  double total = 0;          // the whole constructor
};

// "model binding 0.002 s, policy 0.441 s, device model 0.010 s, engine core 0.031 s (total 0.484 s)"
[[nodiscard]] std::string to_string(const LoadTimes& times);
std::ostream& operator<<(std::ostream& out, const LoadTimes& times);

}  // namespace pagoda::runtime
