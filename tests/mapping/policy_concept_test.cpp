// What MappingPolicy demands of a policy, shown on stand-ins (the real four
// are checked against it where they are listed, mapping/policy_list.hpp),
// and the weight layouts that are all kernels see of a policy.
#include <array>
#include <span>

#include <doctest/doctest.h>

#include "pagoda/mapping/policy.hpp"

using namespace pagoda;
using namespace pagoda::mapping;

namespace {

struct StandInOptions {
  int device = 0;
};

// The shape every policy has.
class StandIn {
public:
  static constexpr PolicyId id = PolicyId::host_registered;
  static constexpr Residence residence = Residence::host;
  using Options = StandInOptions;
  static constexpr std::array<quant::WeightLayout, 1> layouts{quant::WeightLayout::gguf_blocks};
  explicit StandIn(const gguf::MappedFile& file) : StandIn(file, Options{}) {}
  StandIn(const gguf::MappedFile&, const Options&) {}
  StandIn(StandIn&&) noexcept = default;
  StandIn(const StandIn&) = delete;
  [[nodiscard]] const std::byte* device_pointer(const gguf::TensorInfo& tensor) const { return tensor.bytes.data(); }
  [[nodiscard]] PlacementReport report() const { return {}; }
};

// Copyable: two owners of one registration would unregister it twice.
class Copyable {
public:
  static constexpr PolicyId id = PolicyId::host_registered;
  static constexpr Residence residence = Residence::host;
  using Options = StandInOptions;
  static constexpr std::array<quant::WeightLayout, 1> layouts{quant::WeightLayout::gguf_blocks};
  explicit Copyable(const gguf::MappedFile&, const Options& = {}) {}
  [[nodiscard]] const std::byte* device_pointer(const gguf::TensorInfo&) const { return nullptr; }
  [[nodiscard]] PlacementReport report() const { return {}; }
};

// Residence decided at run time: kernels could not be chosen at compile time.
class RuntimeResidence {
public:
  static constexpr PolicyId id = PolicyId::device_copy;
  static inline Residence residence = Residence::device;
  using Options = StandInOptions;
  static constexpr std::array<quant::WeightLayout, 1> layouts{quant::WeightLayout::gguf_blocks};
  explicit RuntimeResidence(const gguf::MappedFile&, const Options& = {}) {}
  RuntimeResidence(const RuntimeResidence&) = delete;
  [[nodiscard]] const std::byte* device_pointer(const gguf::TensorInfo&) const { return nullptr; }
  [[nodiscard]] PlacementReport report() const { return {}; }
};

// A mutable pointer would let kernels write weights.
class MutablePointer {
public:
  static constexpr PolicyId id = PolicyId::device_copy;
  static constexpr Residence residence = Residence::device;
  using Options = StandInOptions;
  static constexpr std::array<quant::WeightLayout, 1> layouts{quant::WeightLayout::gguf_blocks};
  explicit MutablePointer(const gguf::MappedFile&, const Options& = {}) {}
  MutablePointer(const MutablePointer&) = delete;
  [[nodiscard]] std::byte* device_pointer(const gguf::TensorInfo&) const { return nullptr; }
  [[nodiscard]] PlacementReport report() const { return {}; }
};

}  // namespace

TEST_CASE("a mapping policy is a non-copyable type with compile-time id and residence") {
  static_assert(MappingPolicy<StandIn>);
  static_assert(!MappingPolicy<Copyable>, "copyable owners are refused");
  static_assert(!MappingPolicy<RuntimeResidence>, "residence must be a compile-time constant");
  static_assert(!MappingPolicy<MutablePointer>, "device pointers are const");
  CHECK(MappingPolicy<StandIn>);
}

// Offers field streams: it must say how it rearranges its bytes.
class Repacking : public StandIn {
public:
  using StandIn::StandIn;
  static constexpr std::array<quant::WeightLayout, 2> layouts{quant::WeightLayout::field_streams,
                                                              quant::WeightLayout::gguf_blocks};
  void repack_to_field_streams(std::span<const gguf::TensorInfo* const>) {}
};
class ClaimsStreamsWithoutRepacking : public StandIn {
public:
  using StandIn::StandIn;
  static constexpr std::array<quant::WeightLayout, 1> layouts{quant::WeightLayout::field_streams};
};

TEST_CASE("kernels see the weight layouts a policy offers, and offering field streams takes a repack") {
  static_assert(policy_traits<StandIn>::residence == Residence::host);
  static_assert(policy_traits<StandIn>::offers(quant::WeightLayout::gguf_blocks));
  static_assert(!policy_traits<StandIn>::offers(quant::WeightLayout::field_streams));
  static_assert(MappingPolicy<Repacking>);
  static_assert(policy_traits<Repacking>::layouts[0] == quant::WeightLayout::field_streams, "best first");
  static_assert(!MappingPolicy<ClaimsStreamsWithoutRepacking>);
  CHECK(policy_traits<Repacking>::offers(quant::WeightLayout::field_streams));
  CHECK_FALSE(MappingPolicy<ClaimsStreamsWithoutRepacking>);
}
