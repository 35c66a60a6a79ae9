#include "pagoda/runtime/layout_plan.hpp"

#include <cstdint>
#include <map>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/mapping/byte_text.hpp"
#include "pagoda/quant/field_streams.hpp"

namespace pagoda::runtime {

namespace {

// Why `tensor` cannot be field streams, or empty when it can.
std::string unpackable(const gguf::TensorInfo& tensor, const std::byte* placed) {
  const bool has_streams = quant::visit_field_stream_format(tensor.type, [](auto) {});
  if (!has_streams) return "its format has no field-streams layout";
  if (reinterpret_cast<std::uintptr_t>(placed) % 16 != 0) return "its bytes are not 16-byte aligned";
  if (tensor.dims[0] > 65536) return "rows longer than 65536 columns";
  return {};
}

}  // namespace

LayoutPlan plan_layouts(const model::ModelWeights& weights, quant::LayoutChoice choice, bool offers_field_streams,
                        std::string_view policy_name,
                        const std::function<const std::byte*(const gguf::TensorInfo&)>& placed_address) {
  if (choice == quant::LayoutChoice::field_streams && !offers_field_streams)
    throw Error(fmt::format("weight layout packed (field streams) was asked for, but the {} policy reads the file's "
                            "bytes in place and offers only gguf-blocks; use --layout auto or gguf, or a policy "
                            "that copies the weights (device-copy)",
                            policy_name));
  const bool streams = offers_field_streams && choice != quant::LayoutChoice::gguf_blocks;
  LayoutPlan plan;
  const auto consider = [&](const gguf::TensorInfo* tensor, std::string_view kept_because) {
    if (tensor == nullptr || plan.layout.contains(tensor)) return;
    std::string reason(kept_because);
    if (streams && reason.empty()) reason = unpackable(*tensor, placed_address(*tensor));
    if (!streams && reason.empty())
      reason = choice == quant::LayoutChoice::gguf_blocks ? "gguf asked for" : "the policy offers only gguf-blocks";
    if (reason.empty()) {
      plan.layout[tensor] = quant::WeightLayout::field_streams;
      plan.to_repack.push_back(tensor);
    } else {
      plan.layout[tensor] = quant::WeightLayout::gguf_blocks;
      plan.kept_reasons.push_back(fmt::format("{}: {}", tensor->name, reason));
    }
  };
  // The embedding table first: when the output is tied to it, it stays GGUF.
  consider(weights.token_embedding, "the embedding table (its rows are gathered from GGUF blocks)");
  consider(weights.output, "");
  for (const model::LayerWeights& layer : weights.layers)
    for (const gguf::TensorInfo* m : {layer.wq, layer.wk, layer.wv, layer.wo, layer.w_gate, layer.w_up, layer.w_down})
      consider(m, "");
  return plan;
}

void LayoutPlan::describe(mapping::PlacementReport& report) const {
  std::map<quant::WeightLayout, std::pair<std::size_t, std::uint64_t>> totals;  // count, bytes
  for (const auto& [tensor, chosen] : layout) {
    auto& [count, bytes] = totals[chosen];
    ++count;
    bytes += tensor->byte_size;
    report.tensor_layouts.emplace_back(std::string(tensor->name), std::string(quant::name_of(chosen)));
  }
  std::string text;
  for (const auto& [each, total] : totals) {
    if (!text.empty()) text += "; ";
    text += fmt::format("{} {} ({})", quant::name_of(each), total.first, mapping::bytes_text(total.second));
  }
  if (!kept_reasons.empty()) {
    // The reasons, grouped: one example each is enough for a line.
    std::map<std::string, std::pair<std::string, std::size_t>> by_reason;
    for (const std::string& kept : kept_reasons) {
      const std::size_t colon = kept.find(": ");
      auto& [example, count] = by_reason[kept.substr(colon + 2)];
      if (count++ == 0) example = kept.substr(0, colon);
    }
    for (const auto& [reason, seen] : by_reason)
      text += fmt::format("; gguf-blocks because {} ({}{})", reason, seen.first,
                          seen.second > 1 ? fmt::format(" and {} more", seen.second - 1) : "");
  }
  report.layouts = text;
}

}  // namespace pagoda::runtime
