// Policy selection (see mapping/selection.hpp for the rules). Every branch
// leaves a sentence behind: the reasons are the product, not a debug aid.
#include "pagoda/mapping/selection.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/mapping/byte_text.hpp"

namespace pagoda::mapping {

namespace {

std::string device_label(const DeviceCapabilities& device) {
  return fmt::format("device {} ({})", device.ordinal, device.name);
}

// CPU and GPU share memory or page tables: host-resident bytes are read at
// memory speed, not over PCIe.
bool coherent(const DeviceCapabilities& device) {
  return device.integrated || device.pageable_memory_access_uses_host_page_tables;
}

// A hugetlb pool with enough free pages for the whole model, if any.
const HugepagePool* hugetlb_pool_with_room(const OsCapabilities& os, std::uint64_t bytes) {
  for (auto it = os.hugepage_pools.rbegin(); it != os.hugepage_pools.rend(); ++it)
    if (it->page_bytes != 0 && it->available_pages() >= (bytes + it->page_bytes - 1) / it->page_bytes)
      return &*it;
  return nullptr;
}

// Host-resident policies still need the KV cache and scratch in VRAM, and
// the weights in host RAM.
std::optional<std::string> host_resident_obstacle(const Capabilities& caps, std::uint64_t model_bytes,
                                                  std::uint64_t kv_cache_bytes,
                                                  const SelectionAssumptions& assumptions) {
  const std::uint64_t device_need = kv_cache_bytes + assumptions.vram_headroom_bytes;
  if (device_need > caps.device.free_vram_bytes)
    return fmt::format("the KV cache ({}) plus headroom ({}) exceed the {} of free VRAM on {}",
                       bytes_text(kv_cache_bytes), bytes_text(assumptions.vram_headroom_bytes),
                       bytes_text(caps.device.free_vram_bytes), device_label(caps.device));
  if (caps.os.available_ram_bytes != 0 && model_bytes > caps.os.available_ram_bytes)
    return fmt::format("the model ({}) does not fit in the {} of available host RAM",
                       bytes_text(model_bytes), bytes_text(caps.os.available_ram_bytes));
  return std::nullopt;
}

Feasibility impossible(std::string reason) { return {false, std::move(reason)}; }

std::size_t index_of(PolicyId id) { return static_cast<std::size_t>(id); }

// Auto's order of preference on this platform, each with why it ranks there.
std::vector<std::pair<PolicyId, std::string>> preference_order(const Capabilities& caps,
                                                               std::uint64_t model_bytes) {
  const DeviceCapabilities& device = caps.device;
  const bool hugetlb_room = hugetlb_pool_with_room(caps.os, model_bytes) != nullptr;
  std::vector<std::pair<PolicyId, std::string>> order;
  const auto host_order = [&](std::string_view where) {
    if (device.pageable_memory_access && coherent(device))
      order.emplace_back(PolicyId::hmm_direct,
                         fmt::format("{}: the GPU reads the file mapping in place, nothing pinned or copied", where));
    // Memory pagoda owns before the page cache: registering page-cache
    // folios can hang (mapping/page_cache.hpp), anonymous memory registers
    // safely, on huge pages, with the page cache left empty by O_DIRECT.
    order.emplace_back(PolicyId::hugepage_import,
                       hugetlb_room ? "a hugetlb pool holds the whole model: one physical copy on huge pages"
                                    : "one physical copy in anonymous memory (THP), safe to register");
    order.emplace_back(PolicyId::host_registered,
                       "zero-copy from the page cache, no load-time copy");
    if (device.pageable_memory_access && !coherent(device))
      order.emplace_back(PolicyId::hmm_direct,
                         "HMM without a coherent link migrates pages on GPU faults: last resort");
  };
  if (device.integrated) {
    host_order("integrated GPU, one physical memory");
    order.emplace_back(PolicyId::device_copy,
                       "integrated GPU: a copy would hold the weights twice in the same memory "
                       "(only when nothing else can work)");
  } else {
    order.emplace_back(PolicyId::device_copy,
                       "discrete GPU with room: weights in VRAM stream fastest");
    host_order("coherent link (ATS)");
  }
  return order;
}

std::string join_reasons(const std::array<Feasibility, 4>& assessed) {
  std::string text;
  for (PolicyId id : all_policy_ids)
    text += fmt::format("\n  {}: {}", name_of(id), assessed[index_of(id)].reason);
  return text;
}

}  // namespace

std::string_view name_of(Verdict verdict) {
  switch (verdict) {
    case Verdict::chosen: return "chosen";
    case Verdict::passed_over: return "passed over";
    case Verdict::impossible: return "impossible";
  }
  return "unknown";
}

DecodeCeiling decode_ceiling(PolicyId id, const Capabilities& caps, std::uint64_t model_bytes,
                             const LinkBandwidths& links) {
  DecodeCeiling ceiling;
  if (residence_of(id) == Residence::device && !caps.device.integrated) {
    ceiling.link = "VRAM";
    ceiling.link_gb_s = links.device_read_gb_s;
  } else if (coherent(caps.device)) {
    ceiling.link = caps.device.integrated ? "shared memory (integrated GPU)" : "coherent host memory";
    ceiling.link_gb_s = links.coherent_read_gb_s;
  } else {
    ceiling.link = "host memory over PCIe (zero-copy)";
    ceiling.link_gb_s = links.host_zero_copy_read_gb_s;
  }
  ceiling.bytes_per_token = model_bytes;
  ceiling.tokens_per_second =
      model_bytes == 0 ? 0.0 : ceiling.link_gb_s * 1e9 / static_cast<double>(model_bytes);
  return ceiling;
}

Feasibility assess(PolicyId id, const Capabilities& caps, std::uint64_t model_bytes,
                   std::uint64_t kv_cache_bytes, const SelectionAssumptions& assumptions) {
  if (!caps.device.present) return impossible(fmt::format("no CUDA device ({})", caps.device.absent_reason));
  Feasibility result = impossible("unknown policy id");
  visit_policy_facts(id, [&](auto tag) {
    result = decltype(tag)::type::assess(caps, model_bytes, kv_cache_bytes, assumptions);
  });
  return result;
}

// Each policy's own assessment, on a present device.

Feasibility DeviceCopyFacts::assess(const Capabilities& caps, std::uint64_t model_bytes,
                                    std::uint64_t kv_cache_bytes, const SelectionAssumptions& assumptions) {
  const DeviceCapabilities& device = caps.device;
  const std::string dev = device_label(device);
  const std::uint64_t need = model_bytes + kv_cache_bytes + assumptions.vram_headroom_bytes;
  const std::string sum =
      fmt::format("model {} + KV cache {} + headroom {} = {}", bytes_text(model_bytes),
                  bytes_text(kv_cache_bytes), bytes_text(assumptions.vram_headroom_bytes),
                  bytes_text(need));
  if (need > device.free_vram_bytes)
    return impossible(fmt::format("needs free VRAM for {}, but {} has {} free", sum, dev,
                                  bytes_text(device.free_vram_bytes)));
  return {true, fmt::format("{} fits in the {} of free VRAM", sum, bytes_text(device.free_vram_bytes))};
}

Feasibility HostRegisteredFacts::assess(const Capabilities& caps, std::uint64_t model_bytes,
                                        std::uint64_t kv_cache_bytes, const SelectionAssumptions& assumptions) {
  const DeviceCapabilities& device = caps.device;
  const std::string dev = device_label(device);
  if (!device.host_register_supported)
    return impossible(fmt::format("needs hostRegisterSupported=1; {} reports 0 (cudaHostRegister refused)", dev));
  if (!device.host_register_read_only_supported)
    return impossible(fmt::format(
        "needs hostRegisterReadOnlySupported=1 to register the read-only file mapping; {} reports 0", dev));
  if (auto obstacle = host_resident_obstacle(caps, model_bytes, kv_cache_bytes, assumptions))
    return impossible(std::move(*obstacle));
  return {true, "the file mapping registered read-only (cudaHostRegisterReadOnly), read zero-copy"};
}

Feasibility HmmDirectFacts::assess(const Capabilities& caps, std::uint64_t model_bytes,
                                   std::uint64_t kv_cache_bytes, const SelectionAssumptions& assumptions) {
  const DeviceCapabilities& device = caps.device;
  const std::string dev = device_label(device);
  if (!device.pageable_memory_access)
    return impossible(fmt::format(
        "needs pageableMemoryAccess=1 (HMM/ATS); {} reports 0, so the GPU cannot read a file mapping directly",
        dev));
  if (auto obstacle = host_resident_obstacle(caps, model_bytes, kv_cache_bytes, assumptions))
    return impossible(std::move(*obstacle));
  return {true, device.pageable_memory_access_uses_host_page_tables
                    ? "the GPU reads the file mapping through the CPU's page tables (ATS, coherent)"
                    : "the GPU reads the file mapping through HMM (pages migrate on GPU faults)"};
}

Feasibility HugepageImportFacts::assess(const Capabilities& caps, std::uint64_t model_bytes,
                                        std::uint64_t kv_cache_bytes, const SelectionAssumptions& assumptions) {
  const DeviceCapabilities& device = caps.device;
  const std::string dev = device_label(device);
  if (!device.host_register_supported)
    return impossible(fmt::format(
        "needs hostRegisterSupported=1 to register the anonymous memory; {} reports 0", dev));
  if (auto obstacle = host_resident_obstacle(caps, model_bytes, kv_cache_bytes, assumptions))
    return impossible(std::move(*obstacle));
  if (const HugepagePool* pool = hugetlb_pool_with_room(caps.os, model_bytes))
    return {true, fmt::format("the {} hugetlb pool has {} free pages: the model fits on huge pages",
                              bytes_text(pool->page_bytes), pool->available_pages())};
  return {true, fmt::format("no hugetlb pool has room; transparent hugepages (THP mode {}) instead",
                            name_of(caps.os.thp_mode))};
}

Selection select_policy(const Capabilities& caps, std::uint64_t model_bytes,
                        std::uint64_t kv_cache_bytes, const UserChoice& choice,
                        const SelectionAssumptions& assumptions) {
  if (!caps.device.present)
    fail("no CUDA device to place the weights on: {}", caps.device.absent_reason);
  if (kv_cache_bytes + assumptions.vram_headroom_bytes > caps.device.free_vram_bytes)
    fail("the KV cache ({}) plus headroom ({}) exceed the {} of free VRAM on {}: no mapping policy can "
         "run this; shorten the context",
         bytes_text(kv_cache_bytes), bytes_text(assumptions.vram_headroom_bytes),
         bytes_text(caps.device.free_vram_bytes), device_label(caps.device));

  std::array<Feasibility, 4> assessed;
  for (PolicyId id : all_policy_ids)
    assessed[index_of(id)] = assess(id, caps, model_bytes, kv_cache_bytes, assumptions);

  Selection selection{};
  const auto finish = [&](PolicyId chosen, std::string_view why_chosen) {
    selection.policy = chosen;
    selection.residence = residence_of(chosen);
    selection.ceiling = decode_ceiling(chosen, caps, model_bytes, assumptions.links);
    for (PolicyId id : all_policy_ids) {
      const Feasibility& f = assessed[index_of(id)];
      if (id == chosen)
        selection.considered.push_back({id, Verdict::chosen, fmt::format("{}; {}", why_chosen, f.reason)});
      else if (!f.possible)
        selection.considered.push_back({id, Verdict::impossible, f.reason});
      else
        selection.considered.push_back(
            {id, Verdict::passed_over, fmt::format("possible ({}), but {} was chosen", f.reason, name_of(chosen))});
    }
    return selection;
  };

  std::optional<PolicyId> excluded;
  if (choice.forced) {
    const PolicyId forced = *choice.forced;
    const Feasibility& f = assessed[index_of(forced)];
    if (f.possible) {
      selection.forced = true;
      return finish(forced, "requested by the user");
    }
    if (!choice.allow_fallback)
      fail("mapping policy {} ({}) was requested but cannot work on this platform: {}. Choose another "
           "(`--mapping auto` lets pagoda choose) or allow fallback",
           name_of(forced), type_name_of(forced), f.reason);
    excluded = forced;
  }

  for (const auto& [id, why] : preference_order(caps, model_bytes)) {
    if (id == excluded || !assessed[index_of(id)].possible) continue;
    if (excluded)
      selection.fallback = fmt::format("{} was requested but cannot work here ({}); fell back to {} "
                                       "because fallback was allowed",
                                       name_of(*excluded), assessed[index_of(*excluded)].reason, name_of(id));
    return finish(id, excluded ? fmt::format("fallback, preferred next: {}", why) : why);
  }
  fail("no mapping policy can place a {} model on {}:{}", bytes_text(model_bytes),
       device_label(caps.device), join_reasons(assessed));
}

std::string to_string(const Selection& selection) {
  std::string text = fmt::format(
      "mapping policy {} ({}{}), weights in {} memory; decode ceiling {:.1f} tok/s ({} at {:.0f} GB/s, {} per token)",
      name_of(selection.policy), type_name_of(selection.policy),
      selection.forced ? ", forced" : (selection.fallback ? ", fallback" : ", auto"),
      name_of(selection.residence), selection.ceiling.tokens_per_second, selection.ceiling.link,
      selection.ceiling.link_gb_s, bytes_text(selection.ceiling.bytes_per_token));
  if (selection.fallback) text += fmt::format("\n  fallback: {}", *selection.fallback);
  for (const Consideration& c : selection.considered)
    text += fmt::format("\n  {:<15} {}: {}", name_of(c.policy), name_of(c.verdict), c.reason);
  return text;
}

}  // namespace pagoda::mapping
