// The one place where a matrix's runtime format becomes kernel instantiations.
#include "pagoda/runtime/device_matrix.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <tuple>
#include <type_traits>

#include "pagoda/core/error.hpp"
#include "pagoda/kernels/activation.cuh"
#include "pagoda/kernels/embedding.cuh"
#include "pagoda/kernels/gemv_q.cuh"
#include "pagoda/kernels/gemv_q_fused.cuh"
#include "pagoda/kernels/gemv_streams.cuh"
#include "pagoda/kernels/gemv_streams_pair.cuh"
#include "pagoda/kernels/matmul_few_streams.cuh"
#include "pagoda/kernels/matmul_mma_streams.cuh"
#include "pagoda/kernels/matmul_wgmma_streams.cuh"
#include "pagoda/kernels/matmul_q_streams.cuh"
#include "pagoda/kernels/norm.cuh"
#include "pagoda/kernels/to_half.cuh"
#include "pagoda/kernels/matmul_q.cuh"
#include "pagoda/quant/field_streams.hpp"
#include "pagoda/quant/format_list.hpp"

namespace pagoda::runtime {

namespace {

// The tensor-core GEMMs with their own tile choice (MmaLauncher).
template <class Format>
void mma_sync_gemm(std::span<const kernels::MatmulTarget> targets, std::size_t cols, const __half* x,
                   std::size_t tokens, const kernels::DeviceInfo& device, cudaStream_t stream) {
  kernels::matmul_mma_streams<Format>(targets, cols, x, tokens, device, stream, nullptr);
}
template <class Format>
void wgmma_gemm(std::span<const kernels::MatmulTarget> targets, std::size_t cols, const __half* x,
                std::size_t tokens, const kernels::DeviceInfo& device, cudaStream_t stream) {
  kernels::matmul_wgmma_streams<Format>(targets, cols, x, tokens, device, stream, nullptr);
}

// Format's pair launch if it is the first format of a listed pair (at most one is).
template <class Format>
RopeKvPair rope_kv_pair_of() {
  RopeKvPair pair;
  [&]<class... Pairs>(std::tuple<Pairs...>*) {
    (([&] {
       if constexpr (std::is_same_v<typename Pairs::first_type, Format>)
         pair = {&kernels::gemv_streams_fused_rope_kv_pair<Format, typename Pairs::second_type>,
                 &kernels::gemv_streams_fused_rope_kv<typename Pairs::second_type>};
     }()),
     ...);
  }(static_cast<kernels::gemv_streams_pairs*>(nullptr));
  return pair;
}

}  // namespace

DeviceMatrix bind_device_matrix(const gguf::TensorInfo& tensor, const std::byte* device_data,
                                quant::WeightLayout layout, bool wgmma) {
  DeviceMatrix matrix{.info = &tensor, .data = device_data, .rows = tensor.rows(), .cols = tensor.dims[0]};
  matrix.layout = layout;
  if (layout == quant::WeightLayout::field_streams) {
    // The kernels of the field-streams layout; no embedding gather (the plan
    // keeps the embedding table in GGUF blocks).
    const bool known = quant::visit_field_stream_format(tensor.type, [&](auto tag) {
      using Format = typename decltype(tag)::type;
      matrix.gemv = &kernels::gemv_streams<Format>;
      matrix.matmul = &kernels::matmul_q_streams<Format>;
      if (kernels::matmul_mma_takes<Format>(matrix.cols) && reinterpret_cast<std::uintptr_t>(device_data) % 16 == 0) {
        matrix.matmul_mma = wgmma ? &wgmma_gemm<Format> : &mma_sync_gemm<Format>;
        matrix.prefill_gemm = wgmma ? PrefillGemm::wgmma : PrefillGemm::mma_sync;
        if (wgmma) matrix.matmul_gated = &kernels::matmul_wgmma_gated<Format>;
      }
      // The batched decode step's product streams the GEMV's units: any whole-unit width.
      if (kernels::matmul_few_streams_takes<Format>(matrix.cols) &&
          reinterpret_cast<std::uintptr_t>(device_data) % 16 == 0) {
        matrix.matmul_few = &kernels::matmul_few_streams<Format>;
        matrix.matmul_few_gated = &kernels::matmul_few_streams_gated<Format>;
        matrix.matmul_few_rope_kv = &kernels::matmul_few_streams_rope_kv<Format>;
      }
      matrix.fused_gemv = &kernels::gemv_streams_fused<Format>;
      matrix.gated_gemv = &kernels::gemv_streams_fused_gated<Format>;
      matrix.rope_kv_gemv = &kernels::gemv_streams_fused_rope_kv<Format>;
      matrix.rope_kv_pair = rope_kv_pair_of<Format>();
      matrix.fusable = reinterpret_cast<std::uintptr_t>(device_data) % 16 == 0 &&
                       matrix.cols <= kernels::gemv_streams_max_cols;
    });
    if (!known)
      fail("bind_device_matrix: {} ({}) has no field-streams layout", tensor.name, gguf::name_of(tensor.type));
    return matrix;
  }
  quant::visit_format(tensor.type, [&](auto tag) {
    using Format = typename decltype(tag)::type;
    matrix.gemv = &kernels::gemv_q<Format>;
    matrix.matmul = &kernels::matmul_q<Format>;
    matrix.embedding = &kernels::embedding<Format>;
    matrix.fused_gemv = &kernels::gemv_q_fused<Format>;
    matrix.gated_gemv = &kernels::gemv_q_fused_gated<Format>;
    matrix.fusable = kernels::gemv_takes_staged_path<Format>(device_data, matrix.cols);
  });
  return matrix;
}

void DeviceMatrix::fail_gather() const {
  fail("DeviceMatrix: rows of {} cannot be gathered in the {} layout (only an embedding table in GGUF blocks can)",
       info ? info->name : "a matrix", quant::name_of(layout));
}

namespace {

// `launch(lead, targets, members)` once per group of matrices that
// `joins(lead, m)` puts together in order (a lead that does not join itself
// is skipped): each target is a matrix and its product, members each
// target's index in `matrices`.
template <class Target, class Joins, class Launch>
void for_each_group_of(std::span<const DeviceMatrix* const> matrices, std::span<const VectorProduct> products,
                       Joins joins, Launch&& launch) {
  std::array<bool, 3> done{};
  for (std::size_t first = 0; first < matrices.size(); ++first) {
    const DeviceMatrix& lead = *matrices[first];
    if (done[first] || !joins(lead, lead)) continue;
    std::array<Target, 3> targets{};
    std::array<std::size_t, 3> members{};
    std::size_t count = 0;
    for (std::size_t m = first; m < matrices.size(); ++m) {
      if (done[m] || !joins(lead, *matrices[m])) continue;
      members[count] = m;
      targets[count++] = {matrices[m]->data, matrices[m]->rows, products[m].y, products[m].residual};
      done[m] = true;
    }
    launch(lead, std::span<const Target>(targets).first(count), std::span<const std::size_t>(members).first(count));
  }
}

// `append` for a launch whose targets are q, k and v's `members` (0, 1, 2).
kernels::RopeKvAppend with_roles(kernels::RopeKvAppend append, std::span<const std::size_t> members) {
  constexpr kernels::QkvRole roles[] = {kernels::QkvRole::query, kernels::QkvRole::key, kernels::QkvRole::value};
  for (std::size_t i = 0; i < members.size(); ++i) append.roles[i] = roles[members[i]];
  return append;
}

// The decode GEMV's groups: the same fused launcher (format, layout) and cols.
template <class Launch>
void for_each_fused_group(std::span<const DeviceMatrix* const> matrices, std::span<const VectorProduct> products,
                          Launch&& launch) {
  for_each_group_of<kernels::GemvTarget>(
      matrices, products,
      [](const DeviceMatrix& lead, const DeviceMatrix& m) {
        return m.fused_gemv == lead.fused_gemv && m.cols == lead.cols;
      },
      launch);
}

// Same format (the same launchers), same cols, each on the staged path, and
// a norm weight the staged kernel can read with 16-byte loads.
bool can_fuse(std::span<const DeviceMatrix* const> matrices, const NormedVector& input) {
  const DeviceMatrix& first = *matrices.front();
  return reinterpret_cast<std::uintptr_t>(input.norm.weight) % 16 == 0 &&
         std::all_of(matrices.begin(), matrices.end(), [&](const DeviceMatrix* m) {
           return m->fusable && m->fused_gemv == first.fused_gemv && m->cols == first.cols;
         });
}

// The unfused path's input: x itself, or x normalised into the scratch.
const float* normalised(const NormedVector& input, std::size_t cols, cudaStream_t stream) {
  if (input.norm.weight == nullptr) return input.x;
  kernels::rms_norm(input.x, input.norm.weight, input.normed, 1, cols, input.norm.eps, stream);
  return input.normed;
}

}  // namespace

void DeviceMatrix::multiply_vectors(std::span<const DeviceMatrix* const> matrices, const NormedVector& input,
                                    std::span<const VectorProduct> products, const kernels::DeviceInfo& device,
                                    cudaStream_t stream) {
  if (matrices.empty() || matrices.size() > 3 || matrices.size() != products.size())
    fail("DeviceMatrix::multiply_vectors: one to three matrices, one product each (got {} and {})", matrices.size(),
         products.size());
  const bool each_fusable = std::all_of(matrices.begin(), matrices.end(), [&](const DeviceMatrix* m) {
    const DeviceMatrix* one[] = {m};
    return can_fuse(one, input);
  });
  if (!each_fusable) {
    const float* x = normalised(input, matrices.front()->cols, stream);
    for (std::size_t m = 0; m < matrices.size(); ++m)
      matrices[m]->multiply_vector(x, products[m].y, products[m].residual, device, stream);
    return;
  }
  // One launch (the norm inside) per group of matrices sharing their kernels:
  // q, k and v at once, or, for a mix such as Q4_K_M's (q and k Q4_K, v
  // Q6_K), q and k in one launch and v in another, rather than a norm
  // launch and three products.
  for_each_fused_group(matrices, products, [&](const DeviceMatrix& lead, auto targets, auto) {
    lead.fused_gemv(targets, lead.cols, input.x, input.norm, device, stream);
  });
}

bool DeviceMatrix::take_rope_kv(std::span<const DeviceMatrix* const> qkv, const NormedVector& input,
                                model::RopeLayout layout) {
  return qkv.size() == 3 && layout == model::RopeLayout::interleaved &&
         std::all_of(qkv.begin(), qkv.end(), [&](const DeviceMatrix* m) {
           const DeviceMatrix* one[] = {m};
           return m->rope_kv_gemv != nullptr && can_fuse(one, input);
         });
}

void DeviceMatrix::multiply_qkv_rope_kv(std::span<const DeviceMatrix* const> qkv, const NormedVector& input,
                                        std::span<const VectorProduct> products, const kernels::RopeKvAppend& append,
                                        const kernels::DeviceInfo& device, cudaStream_t stream) {
  if (products.size() != 3 || !take_rope_kv(qkv, input, append.rope.layout))
    fail("DeviceMatrix::multiply_qkv_rope_kv: q, k and v of field streams that fuse, one product each, and "
         "interleaved RoPE");
  // The groups (one a format); two of a listed pair (Q4_K_M's q and k in
  // Q4_K, v in Q6_K) take one launch.
  struct Group {
    const DeviceMatrix* lead;
    std::array<kernels::GemvTarget, 3> targets;
    std::array<std::size_t, 3> members;
    std::size_t count;
  };
  std::array<Group, 3> groups{};
  std::size_t count = 0;
  for_each_fused_group(qkv, products, [&](const DeviceMatrix& lead, auto targets, auto members) {
    Group& g = groups[count++];
    g.lead = &lead;
    g.count = targets.size();
    std::copy(targets.begin(), targets.end(), g.targets.begin());
    std::copy(members.begin(), members.end(), g.members.begin());
  });
  const auto targets_of = [](const Group& g) { return std::span<const kernels::GemvTarget>(g.targets).first(g.count); };
  const auto pairs = [](const Group& a, const Group& b) {
    return a.lead->rope_kv_pair.launch != nullptr && a.lead->rope_kv_pair.partner == b.lead->rope_kv_gemv;
  };
  if (count == 2 && (pairs(groups[0], groups[1]) || pairs(groups[1], groups[0]))) {
    const bool in_order = pairs(groups[0], groups[1]);
    const Group& first = in_order ? groups[0] : groups[1];
    const Group& second = in_order ? groups[1] : groups[0];
    std::array<std::size_t, 3> members{};
    std::copy_n(first.members.begin(), first.count, members.begin());
    std::copy_n(second.members.begin(), second.count, members.begin() + first.count);
    first.lead->rope_kv_pair.launch(targets_of(first), targets_of(second), first.lead->cols, input.x, input.norm,
                                    with_roles(append, std::span<const std::size_t>(members).first(3)), device,
                                    stream);
    return;
  }
  for (std::size_t i = 0; i < count; ++i)
    groups[i].lead->rope_kv_gemv(targets_of(groups[i]), groups[i].lead->cols, input.x, input.norm,
                                 with_roles(append, std::span<const std::size_t>(groups[i].members).first(groups[i].count)),
                                 device, stream);
}

namespace {

void check_products(const char* operation, std::span<const DeviceMatrix* const> matrices,
                    std::span<const VectorProduct> products) {
  if (matrices.empty() || matrices.size() > kernels::matmul_mma_max_targets || matrices.size() != products.size())
    fail("DeviceMatrix::{}: one to three matrices, one product each (got {} and {})", operation, matrices.size(),
         products.size());
  for (const DeviceMatrix* m : matrices)
    if (m->cols != matrices.front()->cols)
      fail("DeviceMatrix::{}: the matrices share their input, so their cols", operation);
}

// `launch(lead, targets)` once per group of matrices sharing the launcher
// `kernel` names (the same format and GEMM), skipping those without it.
template <class Launcher, class Launch>
void for_each_group(std::span<const DeviceMatrix* const> matrices, std::span<const VectorProduct> products,
                    Launcher DeviceMatrix::*kernel, Launch launch) {
  static_assert(kernels::matmul_mma_max_targets == 3, "for_each_group_of groups three matrices at most");
  for_each_group_of<kernels::MatmulTarget>(
      matrices, products,
      [kernel](const DeviceMatrix& lead, const DeviceMatrix& m) {
        return lead.*kernel != nullptr && m.*kernel == lead.*kernel;
      },
      [&](const DeviceMatrix& lead, auto targets, auto) { launch(lead, targets); });
}

// One launch per group of matrices with the same tensor-core GEMM, all reading x16.
void launch_mma_groups(std::span<const DeviceMatrix* const> matrices, const __half* x16, std::size_t tokens,
                       std::span<const VectorProduct> products, const kernels::DeviceInfo& device,
                       cudaStream_t stream) {
  for_each_group(matrices, products, &DeviceMatrix::matmul_mma, [&](const DeviceMatrix& lead, auto targets) {
    lead.matmul_mma(targets, lead.cols, x16, tokens, device, stream);
  });
}

// The products of matrices on f32 x: those with the f16 launcher `kernel`
// names share one f16 copy of x (x16) and `launch_groups(x16)`; the others
// take the tile kernel (`multiply`) on x itself.
template <class Launcher, class LaunchGroups>
void multiply_f16_or_tile(std::span<const DeviceMatrix* const> matrices, const float* x, __half* x16,
                          std::size_t tokens, std::span<const VectorProduct> products, Launcher DeviceMatrix::*kernel,
                          const kernels::DeviceInfo& device, cudaStream_t stream, LaunchGroups launch_groups) {
  bool any_f16 = false;
  for (std::size_t m = 0; m < matrices.size(); ++m) {
    if (matrices[m]->*kernel != nullptr) {
      any_f16 = true;
      continue;
    }
    matrices[m]->multiply(x, tokens, products[m].y, products[m].residual, device, stream);
  }
  if (!any_f16) return;
  kernels::to_half(x, x16, tokens * matrices.front()->cols, stream);
  launch_groups();
}

}  // namespace

void DeviceMatrix::multiply_tokens_gated(model::FfnActivation activation, const DeviceMatrix& gate,
                                         const DeviceMatrix& up, const __half* x16, std::size_t tokens, __half* out,
                                         const kernels::DeviceInfo& device, cudaStream_t stream) {
  if (!take_gated(gate, up))
    fail("DeviceMatrix::multiply_tokens_gated: {} and {} do not share a gated prompt GEMM",
         gate.info ? gate.info->name : std::string_view("gate"), up.info ? up.info->name : std::string_view("up"));
  gate.matmul_gated(gate.data, up.data, gate.rows, gate.cols, x16, tokens, activation, out, device, stream);
}

bool DeviceMatrix::all_take_mma(std::span<const DeviceMatrix* const> matrices) {
  return !matrices.empty() &&
         std::all_of(matrices.begin(), matrices.end(), [](const DeviceMatrix* m) { return m->matmul_mma != nullptr; });
}

void DeviceMatrix::multiply_tokens(std::span<const DeviceMatrix* const> matrices, const float* x, __half* x16,
                                   std::size_t tokens, std::span<const VectorProduct> products,
                                   const kernels::DeviceInfo& device, cudaStream_t stream) {
  check_products("multiply_tokens", matrices, products);
  multiply_f16_or_tile(matrices, x, x16, tokens, products, &DeviceMatrix::matmul_mma, device, stream,
                       [&] { launch_mma_groups(matrices, x16, tokens, products, device, stream); });
}

void DeviceMatrix::multiply_few(std::span<const DeviceMatrix* const> matrices, const float* x, __half* x16,
                                std::size_t tokens, std::span<const VectorProduct> products,
                                const kernels::SplitWorkspace& workspace, const kernels::DeviceInfo& device,
                                cudaStream_t stream) {
  check_products("multiply_few", matrices, products);
  multiply_f16_or_tile(matrices, x, x16, tokens, products, &DeviceMatrix::matmul_few, device, stream, [&] {
    for_each_group(matrices, products, &DeviceMatrix::matmul_few, [&](const DeviceMatrix& lead, auto targets) {
      lead.matmul_few(targets, lead.cols, x16, tokens, workspace, device, stream, 0);
    });
  });
}

void DeviceMatrix::multiply_few_gated(model::FfnActivation activation, const DeviceMatrix& gate,
                                      const DeviceMatrix& up, const __half* x16, std::size_t tokens, __half* out,
                                      const kernels::SplitWorkspace& workspace, const kernels::DeviceInfo& device,
                                      cudaStream_t stream) {
  if (!take_few_gated(gate, up))
    fail("DeviceMatrix::multiply_few_gated: {} and {} do not share a paired batched-step product",
         gate.info ? gate.info->name : std::string_view("gate"), up.info ? up.info->name : std::string_view("up"));
  gate.matmul_few_gated(gate.data, up.data, gate.rows, gate.cols, x16, tokens, activation, out, workspace, device,
                        stream, 0);
}

bool DeviceMatrix::take_few_rope_kv(std::span<const DeviceMatrix* const> qkv, model::RopeLayout layout) {
  return qkv.size() == 3 && layout == model::RopeLayout::interleaved &&
         std::all_of(qkv.begin(), qkv.end(), [](const DeviceMatrix* m) { return m->matmul_few_rope_kv != nullptr; }) &&
         qkv[1]->cols == qkv[0]->cols && qkv[2]->cols == qkv[0]->cols;
}

void DeviceMatrix::multiply_few_rope_kv(std::span<const DeviceMatrix* const> qkv, const __half* x16,
                                        std::size_t tokens, std::span<const VectorProduct> products,
                                        const kernels::RopeKvAppend& append, const kernels::SplitWorkspace& workspace,
                                        const kernels::DeviceInfo& device, cudaStream_t stream) {
  if (products.size() != 3 || !take_few_rope_kv(qkv, append.rope.layout))
    fail("DeviceMatrix::multiply_few_rope_kv: q, k and v with the batched step's product, one product each, and "
         "interleaved RoPE");
  for_each_group_of<kernels::MatmulTarget>(
      qkv, products,
      [](const DeviceMatrix& lead, const DeviceMatrix& m) { return m.matmul_few_rope_kv == lead.matmul_few_rope_kv; },
      [&](const DeviceMatrix& lead, auto targets, auto members) {
        lead.matmul_few_rope_kv(targets, lead.cols, x16, tokens, with_roles(append, members), workspace, device,
                                stream, 0);
      });
}

bool DeviceMatrix::all_take_few(std::span<const DeviceMatrix* const> matrices) {
  return !matrices.empty() &&
         std::all_of(matrices.begin(), matrices.end(), [](const DeviceMatrix* m) { return m->matmul_few != nullptr; });
}

void DeviceMatrix::multiply_few_half(std::span<const DeviceMatrix* const> matrices, const __half* x16,
                                     std::size_t tokens, std::span<const VectorProduct> products,
                                     const kernels::SplitWorkspace& workspace, const kernels::DeviceInfo& device,
                                     cudaStream_t stream) {
  check_products("multiply_few_half", matrices, products);
  if (!all_take_few(matrices))
    fail("DeviceMatrix::multiply_few_half: {} has no batched-step product (an f16 input needs one)",
         matrices.front()->info ? matrices.front()->info->name : std::string_view("a matrix"));
  for_each_group(matrices, products, &DeviceMatrix::matmul_few, [&](const DeviceMatrix& lead, auto targets) {
    lead.matmul_few(targets, lead.cols, x16, tokens, workspace, device, stream, 0);
  });
}

void DeviceMatrix::multiply_tokens_half(std::span<const DeviceMatrix* const> matrices, const __half* x16,
                                        std::size_t tokens, std::span<const VectorProduct> products,
                                        const kernels::DeviceInfo& device, cudaStream_t stream) {
  check_products("multiply_tokens_half", matrices, products);
  if (!all_take_mma(matrices))
    fail("DeviceMatrix::multiply_tokens_half: {} has no tensor-core prefill GEMM (an f16 input needs one)",
         matrices.front()->info ? matrices.front()->info->name : std::string_view("a matrix"));
  launch_mma_groups(matrices, x16, tokens, products, device, stream);
}

void DeviceMatrix::multiply_vector_gated(model::FfnActivation activation, const DeviceMatrix& gate,
                                         const DeviceMatrix& up, const NormedVector& input, float* out,
                                         float* up_scratch, const kernels::DeviceInfo& device,
                                         cudaStream_t stream) {
  const std::array<const DeviceMatrix*, 2> pair{&gate, &up};
  if (can_fuse(pair, input) && gate.rows == up.rows) {
    gate.gated_gemv(activation, gate.data, up.data, gate.rows, gate.cols, input.x, input.norm, out, device, stream);
    return;
  }
  const float* x = normalised(input, gate.cols, stream);
  gate.multiply_vector(x, out, nullptr, device, stream);
  up.multiply_vector(x, up_scratch, nullptr, device, stream);
  kernels::gated_activation(activation, out, up_scratch, out, gate.rows, stream);
}

}  // namespace pagoda::runtime
