// Whichever engine a load chose, as one value: a variant over the CPU
// reference engine and Engine<P> for every mapping policy in
// mapping::policies (when pagoda is built with CUDA). The choice happened
// once, at load; each call here is one std::visit at the API boundary.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "pagoda/cpu/cpu_engine.hpp"
#include "pagoda/core/type_list.hpp"
#include "pagoda/mapping/placement_report.hpp"
#include "pagoda/runtime/sequence_step.hpp"
#if PAGODA_HAS_CUDA
#include "pagoda/mapping/policy_list.hpp"
#include "pagoda/runtime/engine.hpp"
#endif

namespace pagoda::runtime {

#if PAGODA_HAS_CUDA
namespace detail {
template <class List>
struct engine_variant;
template <class... Policies>
struct engine_variant<type_list<Policies...>> {
  using type = std::variant<std::unique_ptr<cpu::CpuEngine>, std::unique_ptr<Engine<Policies>>...>;
};
}  // namespace detail
using EngineVariant = detail::engine_variant<mapping::policies>::type;
#else
using EngineVariant = std::variant<std::unique_ptr<cpu::CpuEngine>>;
#endif

class AnyEngine {
  // Calls fn(engine) on whichever engine this holds (defined first: the
  // members below deduce their return types from it).
  template <class Fn>
  decltype(auto) visit(Fn&& fn) const {
    return std::visit([&](auto& engine) -> decltype(auto) { return fn(*engine); }, engine_);
  }

public:
  template <class E>
  explicit AnyEngine(std::unique_ptr<E> engine) : engine_(std::move(engine)) {}

  std::int32_t prefill(std::span<const std::int32_t> tokens) {
    return visit([&](auto& e) { return e.prefill(tokens); });
  }
  std::int32_t decode(std::int32_t token) {
    return visit([&](auto& e) { return e.decode(token); });
  }
  [[nodiscard]] std::vector<float> logits() const {
    return visit([](auto& e) { return e.logits(); });
  }
  std::vector<float> forward_all_logits(std::span<const std::int32_t> tokens) {
    return visit([&](auto& e) { return e.forward_all_logits(tokens); });
  }
  void rewind(std::uint32_t keep = 0) {
    visit([&](auto& e) { e.rewind(keep); });
  }
  void set_sampling(const SamplingParams& params) {
    visit([&](auto& e) { e.set_sampling(params); });
  }
  [[nodiscard]] std::uint32_t position() const {
    return visit([](auto& e) { return e.position(); });
  }

  // Several sequences over one copy of the weights (sequence_step.hpp); the
  // calls above are sequence 0's.
  [[nodiscard]] std::uint32_t sequences() const {
    return visit([](auto& e) { return e.sequences(); });
  }
  void step(std::span<SequenceStep> steps) {
    visit([&](auto& e) { e.step(steps); });
  }
  void rewind_sequence(std::uint32_t sequence, std::uint32_t keep) {
    visit([&](auto& e) { e.rewind_sequence(sequence, keep); });
  }
  void set_sequence_sampling(std::uint32_t sequence, const SamplingParams& params) {
    visit([&](auto& e) { e.set_sequence_sampling(sequence, params); });
  }
  [[nodiscard]] std::uint32_t sequence_position(std::uint32_t sequence) const {
    return visit([&](auto& e) { return e.sequence_position(sequence); });
  }
  // The logits the sequence's last token was sampled from (a CUDA engine:
  // while its buffer holds them; engine_core.hpp).
  [[nodiscard]] std::vector<float> sequence_logits(std::uint32_t sequence) const {
    return visit([&](auto& e) { return e.sequence_logits(sequence); });
  }

  [[nodiscard]] std::uint32_t context_size() const {
    return visit([](auto& e) { return e.context_size(); });
  }
  [[nodiscard]] bool on_gpu() const { return engine_.index() != 0; }
  // Where the weights are and how the GPU (or CPU) reaches them, in one line.
  [[nodiscard]] std::string placement_line() const;
  // The mapping policy's report as a value (Engine<P>::placement()); none
  // for the CPU engine, which reads the file mapping and places nothing.
  [[nodiscard]] std::optional<mapping::PlacementReport> placement_report() const {
    return std::visit(
        [](const auto& engine) -> std::optional<mapping::PlacementReport> {
          if constexpr (requires { engine->placement(); })
            return engine->placement();
          else
            return std::nullopt;
        },
        engine_);
  }

private:
  EngineVariant engine_;
};

}  // namespace pagoda::runtime
