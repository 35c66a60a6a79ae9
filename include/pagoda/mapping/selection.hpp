// Choosing a mapping policy: a pure function of the platform's capabilities,
// the bytes to place and the user's choice, returning the policy and one
// reason per option considered — so every platform's decision is a unit test
// (tests/mapping/selection_test.cpp) and never a flag set far away. Rules:
//  - integrated GPU (one physical memory): never copy; HmmDirect where the GPU
//    reads pageable memory, else a registered host policy;
//  - discrete GPU whose free VRAM holds model + KV cache + headroom: DeviceCopy;
//  - otherwise a host-resident policy, with the decode ceiling its link
//    implies: HmmDirect over a coherent link, else HugepageImport (memory
//    pagoda owns registers safely) before HostRegistered (page-cache folios
//    may not: see mapping/page_cache.hpp);
//  - a forced policy the platform cannot do is an error naming the policy and
//    the missing capability, unless the user allowed fallback — then the
//    fallback is chosen deliberately and recorded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/mapping/policy_id.hpp"

namespace pagoda::mapping {

struct UserChoice {
  std::optional<PolicyId> forced;  // nullopt: auto
  bool allow_fallback = false;     // `--no-fallback` leaves it false
};

// Read bandwidths in GB/s (1e9 B/s) a kernel streaming weights gets from each
// place; defaults are the brief's H100 figures. Pass measured ones where known.
struct LinkBandwidths {
  double device_read_gb_s = 2991.0;        // HBM3 streaming read (brief)
  double host_zero_copy_read_gb_s = 50.0;  // pinned/registered host over PCIe Gen5 (brief)
  // Pageable or registered host memory over a coherent link, or an integrated
  // GPU's shared memory: GB10's LPDDR5X peak (NVIDIA's data sheet, not
  // measured here).
  double coherent_read_gb_s = 273.0;
};

struct SelectionAssumptions {
  LinkBandwidths links;
  // VRAM kept free beyond weights and KV cache: activations, scratch,
  // cuBLAS/CUDA workspaces, fragmentation.
  std::uint64_t vram_headroom_bytes = std::uint64_t{1} << 30;
};

// Decode speed bound by streaming every weight byte once per token.
struct DecodeCeiling {
  std::string link;                  // "VRAM", "PCIe zero-copy", "coherent host memory"
  double link_gb_s = 0;
  std::uint64_t bytes_per_token = 0;
  double tokens_per_second = 0;
};

// Whether a policy can work on a platform, and why (not).
struct Feasibility {
  bool possible = false;
  std::string reason;
};

enum class Verdict : std::uint8_t { chosen, passed_over, impossible };

struct Consideration {
  PolicyId policy;
  Verdict verdict;
  std::string reason;
};

struct Selection {
  PolicyId policy;
  Residence residence;
  bool forced = false;                  // the user named it
  std::optional<std::string> fallback;  // set when a forced policy was refused and fallback allowed
  DecodeCeiling ceiling;                // of the chosen policy
  std::vector<Consideration> considered;  // one per policy, in all_policy_ids order
};

// Can `id` work here? Names the missing capability when not.
[[nodiscard]] Feasibility assess(PolicyId id, const Capabilities& caps, std::uint64_t model_bytes,
                                 std::uint64_t kv_cache_bytes,
                                 const SelectionAssumptions& assumptions = {});

// The ceiling `id` implies on this platform for a model of `model_bytes`.
[[nodiscard]] DecodeCeiling decode_ceiling(PolicyId id, const Capabilities& caps,
                                           std::uint64_t model_bytes,
                                           const LinkBandwidths& links = {});

// Throws pagoda::Error when nothing can work (no device, KV cache larger than
// free VRAM) or when a forced policy cannot and fallback is not allowed.
[[nodiscard]] Selection select_policy(const Capabilities& caps, std::uint64_t model_bytes,
                                      std::uint64_t kv_cache_bytes, const UserChoice& choice,
                                      const SelectionAssumptions& assumptions = {});

// "hmm-direct (auto): ... ceiling ~ 3.4 tok/s" then one indented line per option.
[[nodiscard]] std::string to_string(const Selection& selection);
[[nodiscard]] std::string_view name_of(Verdict verdict);

}  // namespace pagoda::mapping
