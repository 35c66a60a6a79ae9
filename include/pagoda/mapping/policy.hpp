// What a mapping policy is, to the rest of pagoda: a type that, constructed
// from a GGUF file mapped read-only, owns a placement of every tensor's bytes
// where the GPU can read them (acquired in the constructor, released in the
// destructor, on every path), says at compile time where the bytes live, and
// reports what it did. The four policies (DeviceCopy, HostRegistered,
// HmmDirect, HugepageImport) are listed once in mapping/policy_list.hpp.
//
// Kernels never see a policy: they see policy_traits<P>::load, one of two
// load paths, so four policies do not make four kernel instantiations.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "pagoda/gguf/file.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/placement_report.hpp"
#include "pagoda/mapping/policy_id.hpp"

namespace pagoda::mapping {

template <class P>
concept MappingPolicy =
    requires(const P& policy, const gguf::TensorInfo& tensor) {
      typename P::Options;
      // Compile-time constants, not just members:
      typename std::integral_constant<PolicyId, P::id>;
      typename std::integral_constant<Residence, P::residence>;
      // A device-visible pointer to exactly `tensor`'s bytes (it must belong
      // to the file the policy was built from; throws otherwise).
      { policy.device_pointer(tensor) } -> std::same_as<const std::byte*>;
      { policy.report() } -> std::same_as<PlacementReport>;
    } &&
    std::constructible_from<P, const gguf::MappedFile&, const typename P::Options&> &&
    std::constructible_from<P, const gguf::MappedFile&> &&  // default options
    !std::copy_constructible<P> && std::destructible<P>;

// How a kernel should load weight bytes.
enum class LoadPath : std::uint8_t {
  // VRAM: read-only data path (ld.global.nc), L2 caching as usual.
  read_only_cached,
  // Host memory across a link: every weight byte is read once per token and
  // re-reading it from L2 never happens, so stream it (evict-first, ld.global.cs)
  // and leave L2 to the KV cache and activations.
  streaming,
};

[[nodiscard]] constexpr LoadPath load_path_for(Residence residence) {
  return residence == Residence::device ? LoadPath::read_only_cached : LoadPath::streaming;
}

// All a kernel (or a tensor view's type) ever learns about a policy.
template <class P>
struct policy_traits {
  static constexpr Residence residence = P::residence;
  static constexpr LoadPath load = load_path_for(P::residence);
};

}  // namespace pagoda::mapping
