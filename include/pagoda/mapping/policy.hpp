// What a mapping policy is, to the rest of pagoda: a type that, constructed
// from a GGUF file mapped read-only, owns a placement of every tensor's bytes
// where the GPU can read them (acquired in the constructor, released in the
// destructor, on every path), says at compile time where the bytes live, and
// reports what it did. The four policies (DeviceCopy, HostRegistered,
// HmmDirect, HugepageImport) are listed once in mapping/policy_list.hpp.
//
// Kernels never see a policy: they see the weight layout it offers
// (policy_traits<P>::layouts), so four policies do not make four kernel
// instantiations: two layouts do.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "pagoda/gguf/file.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/placement_report.hpp"
#include "pagoda/mapping/policy_id.hpp"
#include "pagoda/quant/layout.hpp"

namespace pagoda::mapping {



// What a kernel (or a tensor view's type) learns about a policy: where the
// bytes live and the weight layouts it can offer (quant/layout.hpp), best
// first. A policy that reads the file's bytes in place can offer only
// gguf_blocks; one that owns writable memory for the weights may also
// rearrange them (field_streams), and then says how (repack_to_field_streams).
// The engine instantiates its kernels per (format x layout), chosen once at load.
template <class P>
struct policy_traits {
  static constexpr Residence residence = P::residence;
  static constexpr auto layouts = P::layouts;
  [[nodiscard]] static constexpr bool offers(quant::WeightLayout layout) {
    for (quant::WeightLayout offered : layouts)
      if (offered == layout) return true;
    return false;
  }
};

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
      // The layouts it offers, best first, as a compile-time constant.
      typename std::integral_constant<quant::WeightLayout, P::layouts[0]>;
    } &&
    (!policy_traits<P>::offers(quant::WeightLayout::field_streams) ||
     requires(P& policy, std::span<const gguf::TensorInfo* const> tensors) {
       // Rearranges these tensors' placed bytes into field streams, in place.
       policy.repack_to_field_streams(tensors);
     }) &&
    std::constructible_from<P, const gguf::MappedFile&, const typename P::Options&> &&
    std::constructible_from<P, const gguf::MappedFile&> &&  // default options
    !std::copy_constructible<P> && std::destructible<P>;

}  // namespace pagoda::mapping
