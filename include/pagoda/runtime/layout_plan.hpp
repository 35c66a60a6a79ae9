// Which weight layout each matrix of a model gets (quant/layout.hpp), decided
// once at load from the user's choice and what the mapping policy offers:
// the one place where the layout axis becomes a value per tensor. The engine
// hands the tensors planned as field streams to the policy to repack, then
// binds every matrix's kernels for its (format, layout).
//
// A matrix stays in the GGUF layout, with the reason in the report, when its
// format has no field streams, when it is the embedding table (rows are
// gathered by the embedding kernel, which reads GGUF blocks), or when its
// placed bytes are not 16-aligned. Forcing field streams on a policy that
// cannot offer them is an error, not a silent downgrade.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pagoda/gguf/file.hpp"
#include "pagoda/mapping/placement_report.hpp"
#include "pagoda/model/weights.hpp"
#include "pagoda/quant/layout.hpp"

namespace pagoda::runtime {

struct LayoutPlan {
  std::unordered_map<const gguf::TensorInfo*, quant::WeightLayout> layout;  // every bound matrix
  std::vector<const gguf::TensorInfo*> to_repack;                            // planned as field streams
  std::vector<std::string> kept_reasons;                                     // "<tensor>: <why gguf-blocks>"

  [[nodiscard]] quant::WeightLayout of(const gguf::TensorInfo& tensor) const {
    const auto found = layout.find(&tensor);
    return found == layout.end() ? quant::WeightLayout::gguf_blocks : found->second;
  }
  // The placement report's layout lines and per-tensor names.
  void describe(mapping::PlacementReport& report) const;
};

// offers_field_streams: the policy's compile-time answer (mapping::policy_traits).
// placed_address: where the policy put a tensor's bytes (alignment is checked).
[[nodiscard]] LayoutPlan plan_layouts(const model::ModelWeights& weights, quant::LayoutChoice choice,
                                      bool offers_field_streams, std::string_view policy_name,
                                      const std::function<const std::byte*(const gguf::TensorInfo&)>& placed_address);

}  // namespace pagoda::runtime
