#include "pagoda/runtime/engine_core.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/kernels/activation.cuh"
#include "pagoda/kernels/attention_decode.cuh"
#include "pagoda/kernels/attention_prefill.cuh"
#include "pagoda/kernels/kv_cache.cuh"
#include "pagoda/kernels/norm.cuh"
#include "pagoda/kernels/rope.cuh"
#include "pagoda/kernels/rope_kv_store.cuh"

namespace pagoda::runtime {

namespace {

std::uint32_t context_size_for(const model::ModelConfig& config, const EngineOptions& options) {
  return effective_context(options.context_size, config.context_length);
}

DeviceBuffer floats(std::size_t count, const char* what) { return DeviceBuffer(count * sizeof(float), what); }

float* as_floats(const DeviceBuffer& buffer) { return reinterpret_cast<float*>(buffer.data()); }
std::int32_t* as_ints(const DeviceBuffer& buffer) { return reinterpret_cast<std::int32_t*>(buffer.data()); }

}  // namespace

EngineCore::EngineCore(const model::ModelConfig& config, DeviceModel model, const EngineOptions& options)
    : config_(config),
      model_(std::move(model)),
      options_(options),
      stream_("engine stream"),
      kv_(config.n_layers, context_size_for(config, options), config.kv_dim(), options.sequences) {
  if (options_.max_batch == 0) fail("the prefill batch size must be positive");
  if (options_.sequences == 0) fail("an engine holds at least one sequence (EngineOptions::sequences is 0)");
  sequences_.reserve(options_.sequences);
  for (std::uint32_t i = 0; i < options_.sequences; ++i)
    sequences_.push_back({kernels::Sampler(config.vocab_size, options.sampling, stream_.get()), 0, {}, {}});
  const std::size_t batch = options_.max_batch;
  x_ = floats(batch * config_.d_model, "activations");
  x_next_ = floats(batch * config_.d_model, "activations");
  normed_ = floats(batch * config_.d_model, "activations");
  q_ = floats(batch * config_.q_dim(), "queries");
  attended_ = floats(batch * config_.q_dim(), "attention output");
  k_ = floats(batch * config_.kv_dim(), "keys");
  v_ = floats(batch * config_.kv_dim(), "values");
  gate_ = floats(batch * config_.d_ffn, "FFN gate");
  up_ = floats(batch * config_.d_ffn, "FFN up");
  x16_ = DeviceBuffer(batch * std::max({config_.d_model, config_.q_dim(), config_.d_ffn}) * sizeof(__half),
                      "f16 prefill input");
  normed16_ = DeviceBuffer(batch * config_.d_model * sizeof(__half), "f16 normed FFN input");
  logits_ = floats(config_.vocab_size, "logits");
  tokens_ = DeviceBuffer(batch * sizeof(std::int32_t), "token ids");
  positions_ = DeviceBuffer(batch * sizeof(std::int32_t), "positions");
  sampled_ = DeviceBuffer(2 * sizeof(std::int32_t), "sampled token");  // the id, and a non-finite logit's id or -1
  const kernels::AttentionShape shape{config_.n_heads, config_.n_kv_heads, config_.head_dim, kv_.context(),
                                      config_.attention_scale};
  // The batched step's buffers: one token of up to matmul_few_streams_max_tokens
  // sequences a forward; none where a step can never batch enough rows.
  batch_rows_ = std::min<std::size_t>({options_.sequences, kernels::matmul_few_streams_max_tokens, batch});
  if (batch_rows_ < batched_step_min_rows) batch_rows_ = 0;
  // A batched row's KV row (sequence * context + position) is an int32.
  if (std::uint64_t{options_.sequences} * kv_.context() > 0x7fffffffu)
    fail("{} sequences of {} tokens exceed the KV cache's 2^31 rows", options_.sequences, kv_.context());
  const auto attention_rows = static_cast<std::uint32_t>(std::max<std::size_t>(1, batch_rows_));
  attention_workspace_ = DeviceBuffer(
      std::max<std::size_t>(kernels::attention_decode_workspace_bytes(shape, model_.device(), attention_rows), 16),
      "attention workspace");
  staging_ = PinnedBuffer((2 * batch + 2) * sizeof(std::int32_t), "token staging");
  if (batch_rows_ > 0) {
    batch_inputs_ = DeviceBuffer(4 * batch_rows_ * sizeof(std::int32_t), "batched step inputs");
    batch_logits_ = floats(batch_rows_ * config_.vocab_size, "batched step logits");
    batch_sampled_ = DeviceBuffer(2 * batch_rows_ * sizeof(std::int32_t), "batched step tokens");
    batch_staging_ = PinnedBuffer(6 * batch_rows_ * sizeof(std::int32_t), "batched step staging");
    batch_logits_ready_.emplace("batched step logits");
    for (std::size_t r = 0; r < batch_rows_; ++r) {
      sampling_streams_.emplace_back("batched step sampling");
      sampling_done_.emplace_back("batched step sampling");
    }
    // matmul_few_streams' split workspace, for its widest launch (the q, k, v
    // group, gate and up, or the output matrix).
    const std::size_t widest = std::max({std::size_t{config_.q_dim()} + 2 * config_.kv_dim(),
                                         2 * std::size_t{config_.d_ffn}, std::size_t{config_.vocab_size}});
    split_workspace_ = kernels::matmul_few_streams_workspace_size(widest, model_.device());
    split_partials_ = floats(split_workspace_.partial_floats, "split-K partial tiles");
    split_arrivals_ = DeviceBuffer(split_workspace_.arrival_count * sizeof(unsigned), "split-K tile counters");
    // On the engine's stream, which does not wait for the legacy default one.
    check_cuda(cudaMemsetAsync(split_arrivals_.data(), 0, split_arrivals_.size(), stream_.get()),
               "split-K counters: cudaMemsetAsync");
    split_workspace_.partials = as_floats(split_partials_);
    split_workspace_.arrivals = reinterpret_cast<unsigned*>(split_arrivals_.data());
    batch_graphs_.resize(batch_rows_ + 1);
    batch_runs_.assign(batch_rows_ + 1, 0);
  }
  choose_decode_path();
}

std::uint32_t EngineCore::direct_attention_rows() const {
  return options_.direct_attention_rows.value_or(kernels::tuning::attention_direct_rows(config_.head_dim));
}

bool EngineCore::takes_direct_attention(std::uint32_t position) const {
  return !persistent_ && position < direct_attention_rows();  // the step sees rows 0..position
}

void EngineCore::choose_decode_path() {
  const std::uint32_t direct_rows = std::min(direct_attention_rows(), kv_.context());
  const std::string graph =
      "graph: the step's kernels (about 6 a layer) replayed as one CUDA graph; " +
      (direct_rows == 0 ? std::string("attention split and merged (two launches) at every position")
                        : fmt::format("attention in one launch while a step sees at most {} rows{}", direct_rows,
                                      direct_rows < kv_.context() ? ", split and merged (two launches) after" : ""));
  const auto why_not = PersistentStep::unsupported(config_, model_);
  switch (options_.decode) {
    case DecodePath::graph: decode_path_ = graph + " (asked for)"; return;
    case DecodePath::automatic:
      // Measured slower than the graph so far (H100: synthetic SmolLM2 322 t/s
      // against 1,521; docs/notes/performance.md, issue 15, version 1): asked for only.
      decode_path_ = graph + (why_not ? " (auto; the persistent step cannot run this model: " + *why_not + ")"
                                      : std::string(" (auto; --decode persistent runs the persistent step, "
                                                    "measured slower so far)"));
      return;
    case DecodePath::persistent: break;
  }
  if (why_not) fail("the persistent decode step cannot run this model: {} (--decode graph runs it)", *why_not);
  const StepBuffers buffers{as_floats(x_),      as_floats(x_next_), as_floats(normed_), as_floats(q_),
                            as_floats(k_),      as_floats(v_),      as_floats(attended_), as_floats(gate_),
                            as_floats(logits_)};
  persistent_.emplace(config_, model_, kv_, options_.sequences, buffers, options_.persistent_grid,
                      persistent_schedule_policy(config_), options_.persistent_prefetch);
  if (options_.persistent_profile) persistent_->enable_profile();
  decode_path_ = persistent_->describe() + " (asked for)";
}

void EngineCore::check_tokens(std::uint32_t sequence, std::span<const std::int32_t> tokens) const {
  if (sequence >= sequences_.size())
    fail("sequence {} does not exist: the engine holds {} (EngineOptions::sequences)", sequence, sequences_.size());
  if (tokens.empty()) fail("nothing to run: no tokens");
  const std::uint32_t position = sequences_[sequence].position;
  if (position + tokens.size() > kv_.context())
    fail("the context is full: {} cached tokens + {} new exceed the context size of {}{}", position, tokens.size(),
         kv_.context(), sequences_.size() > 1 ? fmt::format(" (sequence {})", sequence) : std::string());
  for (const auto token : tokens)
    if (token < 0 || static_cast<std::uint32_t>(token) >= config_.vocab_size)
      fail("token id {} is outside the vocabulary (size {})", token, config_.vocab_size);
}

void EngineCore::enqueue_layers(std::size_t tokens, const std::int32_t* positions, std::uint32_t start, Pass pass,
                                std::uint32_t sequence, BatchRows batch_rows, bool direct_attention) {
  const bool decode = pass == Pass::decode;
  const bool batch = pass == Pass::batch;
  const std::int32_t* kv_rows = batch_rows.kv_rows;
  const std::int32_t* row_sequences = batch_rows.sequences;
  if (batch && (kv_rows == nullptr || row_sequences == nullptr))
    fail("EngineCore: a batched pass needs each row's KV row and sequence");
  const auto& c = config_;
  const auto& arch = c.architecture;
  const cudaStream_t s = stream_.get();
  const kernels::DeviceInfo& device = model_.device();
  // The attention chain (RoPE with the KV append, the split kernel, the
  // merge) launches plainly: as programmatic launches it measured slower
  // (H100, one run: 8B Q4_0 tg128 @ d4096 336 against 347 t/s, 1B 1,520
  // against 1,532; at depth 0 409.7 against 407.0), and so did the one-launch
  // attention (8B tg128 456-459 against 474-475, SmolLM2 1,717-1,723 against
  // 1,789-1,797). docs/notes/performance.md.
  const kernels::DeviceInfo attention_device(device.properties(), false);
  auto* x16 = reinterpret_cast<__half*>(x16_.data());
  // A prefill product's input: f32, or already f16 in x16 (made so by the
  // kernel before it where every matrix that reads it takes the mma.sync GEMM).
  struct TokensInput {
    const float* f32;
    bool in_x16;
  };
  const auto project = [&](const DeviceMatrix& w, TokensInput in, float* out, const float* residual) {
    if (decode) {
      w.multiply_vector(in.f32, out, residual, device, s);
      return;
    }
    const DeviceMatrix* one[] = {&w};
    const VectorProduct product[] = {{out, residual}};
    if (batch && in.in_x16) DeviceMatrix::multiply_few_half(one, x16, tokens, product, split_workspace_, device, s);
    else if (batch) DeviceMatrix::multiply_few(one, in.f32, x16, tokens, product, split_workspace_, device, s);
    else if (in.in_x16) DeviceMatrix::multiply_tokens_half(one, x16, tokens, product, device, s);
    else DeviceMatrix::multiply_tokens(one, in.f32, x16, tokens, product, device, s);
  };
  float* x = as_floats(x_);
  float* x_next = as_floats(x_next_);
  float* normed = as_floats(normed_);
  float* q = as_floats(q_);
  float* k = as_floats(k_);
  float* v = as_floats(v_);
  float* attended = as_floats(attended_);
  float* gate = as_floats(gate_);
  float* up = as_floats(up_);
  // A block's output joins the residual stream in x_next: fused into the
  // projection, or after the post-norm where the architecture has one.
  const auto add_block_output = [&](const DeviceMatrix& w, TokensInput in, const float* post_norm) {
    if (!post_norm) {
      project(w, in, x_next, x);
      return;
    }
    project(w, in, normed, nullptr);
    kernels::rms_norm(normed, post_norm, normed, tokens, c.d_model, c.rms_norm_eps, s);
    kernels::add(x, normed, x_next, tokens * c.d_model, s);
  };

  // Prompt and batched-step products of the normed stream: the norm writes
  // the f16 input itself where every matrix takes a tensor-core product.
  const auto project_normed = [&](const float* norm, std::span<const DeviceMatrix* const> matrices,
                                  std::span<const VectorProduct> products) {
    if (batch && DeviceMatrix::all_take_few(matrices)) {
      kernels::rms_norm(x, norm, x16, tokens, c.d_model, c.rms_norm_eps, s);
      DeviceMatrix::multiply_few_half(matrices, x16, tokens, products, split_workspace_, device, s);
    } else if (batch) {
      kernels::rms_norm(x, norm, normed, tokens, c.d_model, c.rms_norm_eps, s);
      DeviceMatrix::multiply_few(matrices, normed, x16, tokens, products, split_workspace_, device, s);
    } else if (DeviceMatrix::all_take_mma(matrices)) {
      kernels::rms_norm(x, norm, x16, tokens, c.d_model, c.rms_norm_eps, s);
      DeviceMatrix::multiply_tokens_half(matrices, x16, tokens, products, device, s);
    } else {
      kernels::rms_norm(x, norm, normed, tokens, c.d_model, c.rms_norm_eps, s);
      DeviceMatrix::multiply_tokens(matrices, normed, x16, tokens, products, device, s);
    }
  };

  for (std::uint32_t l = 0; l < c.n_layers; ++l) {
    // The sequence's cache; the batched step addresses rows of the whole cache.
    __half* const keys = kv_.keys(l, batch ? 0 : sequence);
    __half* const values = kv_.values(l, batch ? 0 : sequence);
    const DeviceLayer& layer = model_.layers()[l];
    const model::LayerSpec& spec = c.layers[l];
    const kernels::RopeParams rope{c.head_dim, spec.rope.dimensions, spec.rope.freq_base, spec.rope.linear_scale,
                                   model_.rope_freq_factors(), spec.rope.layout};
    // A decode or batched step's RoPE and KV append ride in q, k and v's
    // epilogue where the RoPE is interleaved and nothing comes between (no
    // qk-norm; in the batched step, no bias added after); else rope_kv_store.
    const std::array<const DeviceMatrix*, 3> qkv{&layer.wq, &layer.wk, &layer.wv};
    const NormedVector qkv_input{x, {layer.attn_norm, c.rms_norm_eps}, normed};
    const bool rope_in_products =
        !arch.qk_norm && ((decode && DeviceMatrix::take_rope_kv(qkv, qkv_input, rope.layout)) ||
                          (batch && !arch.qkv_bias && DeviceMatrix::take_few_rope_kv(qkv, rope.layout)));
    if (decode) {  // the norm, q, k and v in one launch where they can share it; a bias rides as the residual
      const std::array<VectorProduct, 3> products{VectorProduct{q, layer.q_bias}, VectorProduct{k, layer.k_bias},
                                                  VectorProduct{v, layer.v_bias}};
      if (rope_in_products)
        DeviceMatrix::multiply_qkv_rope_kv(qkv, qkv_input, products,
                                           {.rope = rope, .k_cache = keys, .v_cache = values, .positions = positions},
                                           device, s);
      else
        DeviceMatrix::multiply_vectors(qkv, qkv_input, products, device, s);
    } else if (rope_in_products) {  // the batched step
      kernels::rms_norm(x, layer.attn_norm, x16, tokens, c.d_model, c.rms_norm_eps, s);
      const std::array<VectorProduct, 3> products{VectorProduct{q, nullptr}, VectorProduct{k, nullptr},
                                                  VectorProduct{v, nullptr}};
      DeviceMatrix::multiply_few_rope_kv(
          qkv, x16, tokens, products,
          {.rope = rope, .k_cache = keys, .v_cache = values, .positions = positions, .cache_rows = kv_rows},
          split_workspace_, device, s);
    } else {  // the norm writes the f16 input itself where q, k and v all take the mma.sync GEMM
      const std::array<VectorProduct, 3> products{VectorProduct{q, nullptr}, VectorProduct{k, nullptr},
                                                  VectorProduct{v, nullptr}};
      project_normed(layer.attn_norm, qkv, products);
      if (arch.qkv_bias) {
        kernels::add_bias(q, layer.q_bias, tokens, c.q_dim(), s);
        kernels::add_bias(k, layer.k_bias, tokens, c.kv_dim(), s);
        kernels::add_bias(v, layer.v_bias, tokens, c.kv_dim(), s);
      }
    }
    if (arch.qk_norm) {  // every head of every token is a row of head_dim
      kernels::rms_norm(q, layer.q_norm, q, tokens * c.n_heads, c.head_dim, c.rms_norm_eps, s);
      kernels::rms_norm(k, layer.k_norm, k, tokens * c.n_kv_heads, c.head_dim, c.rms_norm_eps, s);
    }
    if (rope_in_products) {
      // done: q is turned, the key and value rows are in the cache
    } else if (decode) {
      kernels::rope_kv_store(q, k, v, keys, values, c.n_heads, c.n_kv_heads, rope, positions, s, 1, nullptr,
                             attention_device.programmatic_launch());
    } else if (batch) {  // each row at its own position, into its own sequence's cache row
      kernels::rope_kv_store(q, k, v, keys, values, c.n_heads, c.n_kv_heads, rope, positions, s, tokens, kv_rows,
                             attention_device.programmatic_launch());
    } else {
      kernels::rope(q, tokens, c.n_heads, rope, positions, s);
      kernels::rope(k, tokens, c.n_kv_heads, rope, positions, s);
      kernels::kv_store(k, v, keys, values, tokens, c.kv_dim(), positions, s);
    }
    const kernels::AttentionShape shape{c.n_heads, c.n_kv_heads, c.head_dim, kv_.context(), c.attention_scale,
                                        spec.sliding_window};
    // The batched step's attention writes the output projection's f16 input
    // itself where that projection takes the few-token product.
    const bool attended_in_x16 = batch && layer.wo.matmul_few != nullptr;
    if (decode && direct_attention) {
      kernels::attention_decode_direct(q, keys, values, attended, shape, positions, attention_device, s);
    } else if (decode) {
      kernels::attention_decode(q, keys, values, attended, shape, positions, attention_workspace_.data(),
                                attention_device, s);
    } else if (attended_in_x16) {
      kernels::attention_decode_batch(q, keys, values, x16, shape, static_cast<std::uint32_t>(tokens), positions,
                                      row_sequences, attention_workspace_.data(), attention_device, s);
    } else if (batch) {
      kernels::attention_decode_batch(q, keys, values, attended, shape, static_cast<std::uint32_t>(tokens), positions,
                                      row_sequences, attention_workspace_.data(), attention_device, s);
    } else {
      kernels::attention_prefill(q, keys, values, attended, c.n_heads, c.n_kv_heads, c.head_dim, kv_.context(),
                                 c.attention_scale, start, tokens, device, s, spec.sliding_window);
    }
    add_block_output(layer.wo, {attended, attended_in_x16}, layer.post_attn_norm);
    std::swap(x, x_next);  // the residual stream moves to the other buffer

    // Prefill on wgmma: gate, up and the activation in one GEMM launch that
    // writes the down projection's f16 input into x16 (its own input, the
    // normed stream, is in normed16).
    const bool fused_ffn = pass == Pass::prompt && DeviceMatrix::take_gated(layer.w_gate, layer.w_up) &&
                           layer.w_down.matmul_mma != nullptr;
    // The batched step: gate and up paired in one launch that writes down's f16 input likewise.
    const bool paired_ffn = batch && DeviceMatrix::take_few_gated(layer.w_gate, layer.w_up) &&
                            layer.w_down.matmul_few != nullptr;
    if (decode) {  // the norm, gate, up and the activation in one launch where they can share it
      DeviceMatrix::multiply_vector_gated(arch.ffn_activation, layer.w_gate, layer.w_up,
                                          {x, {layer.ffn_norm, c.rms_norm_eps}, normed}, gate, up, device, s);
    } else if (fused_ffn) {
      auto* normed16 = reinterpret_cast<__half*>(normed16_.data());
      kernels::rms_norm(x, layer.ffn_norm, normed16, tokens, c.d_model, c.rms_norm_eps, s);
      DeviceMatrix::multiply_tokens_gated(arch.ffn_activation, layer.w_gate, layer.w_up, normed16, tokens, x16, device,
                                          s);
    } else if (paired_ffn) {
      auto* normed16 = reinterpret_cast<__half*>(normed16_.data());
      kernels::rms_norm(x, layer.ffn_norm, normed16, tokens, c.d_model, c.rms_norm_eps, s);
      DeviceMatrix::multiply_few_gated(arch.ffn_activation, layer.w_gate, layer.w_up, normed16, tokens, x16,
                                       split_workspace_, device, s);
    } else {
      const std::array<const DeviceMatrix*, 2> gate_up{&layer.w_gate, &layer.w_up};
      const std::array<VectorProduct, 2> products{VectorProduct{gate, nullptr}, VectorProduct{up, nullptr}};
      project_normed(layer.ffn_norm, gate_up, products);
    }
    // The activation writes the down projection's f16 input where down takes
    // the mma.sync GEMM (a prompt) or the batched step's product.
    const bool down_in_x16 = (pass == Pass::prompt && layer.w_down.matmul_mma != nullptr) ||
                             (batch && layer.w_down.matmul_few != nullptr);
    // (fused or paired: x16 already holds act(gate) * up)
    const bool activated = decode || fused_ffn || paired_ffn;
    if (!activated && down_in_x16)
      kernels::gated_activation(arch.ffn_activation, gate, up, x16, tokens * c.d_ffn, s);
    else if (!activated)
      kernels::gated_activation(arch.ffn_activation, gate, up, gate, tokens * c.d_ffn, s);
    add_block_output(layer.w_down, {gate, down_in_x16}, layer.post_ffn_norm);
    std::swap(x, x_next);  // two swaps per layer: the stream is back in x_
  }
  if (batch) {  // every row's logits
    const DeviceMatrix* output[] = {&model_.output()};
    const VectorProduct product[] = {{as_floats(batch_logits_), nullptr}};
    if (DeviceMatrix::all_take_few(output)) {
      kernels::rms_norm(x, model_.output_norm(), x16, tokens, c.d_model, c.rms_norm_eps, s);
      DeviceMatrix::multiply_few_half(output, x16, tokens, product, split_workspace_, device, s);
    } else {
      kernels::rms_norm(x, model_.output_norm(), normed, tokens, c.d_model, c.rms_norm_eps, s);
      DeviceMatrix::multiply_few(output, normed, x16, tokens, product, split_workspace_, device, s);
    }
    return;
  }
  // Logits of the last token only.
  kernels::rms_norm(x + (tokens - 1) * c.d_model, model_.output_norm(), normed, 1, c.d_model, c.rms_norm_eps, s);
  model_.output().multiply_vector(normed, as_floats(logits_), nullptr, device, s);
}

void EngineCore::embed(const std::int32_t* ids, std::size_t count, cudaStream_t s) {
  model_.token_embedding().gather_rows(ids, count, as_floats(x_), s);
  if (config_.architecture.scaled_embedding)
    kernels::scale(as_floats(x_), config_.embedding_scale, count * config_.d_model, s);
}

void EngineCore::enqueue_decode_step(cudaStream_t s, std::uint32_t sequence, bool direct_attention) {
  auto* staged = reinterpret_cast<std::int32_t*>(staging_.data());
  const std::size_t batch = options_.max_batch;
  check_cuda(cudaMemcpyAsync(tokens_.data(), staged, sizeof(std::int32_t), cudaMemcpyHostToDevice, s), "token upload");
  check_cuda(cudaMemcpyAsync(positions_.data(), staged + batch, sizeof(std::int32_t), cudaMemcpyHostToDevice, s),
             "position upload");
  embed(as_ints(tokens_), 1, s);
  if (!persistent_) {
    enqueue_layers(1, as_ints(positions_), 0, Pass::decode, sequence, {}, direct_attention);
  } else {
    persistent_->enqueue(s, sequence, as_ints(positions_));
    if (!persistent_->computes_logits()) {  // the stream is back in x_ after the last layer
      kernels::rms_norm(as_floats(x_), model_.output_norm(), as_floats(normed_), 1, config_.d_model,
                        config_.rms_norm_eps, s);
      model_.output().multiply_vector(as_floats(normed_), as_floats(logits_), nullptr, model_.device(), s);
    }
  }
  enqueue_sample(s, sequence);
}

void EngineCore::enqueue_sample(cudaStream_t s, std::uint32_t sequence) {
  auto* staged = reinterpret_cast<std::int32_t*>(staging_.data()) + 2 * options_.max_batch;
  sequences_[sequence].sampler.sample(as_floats(logits_), as_ints(sampled_), s, as_ints(sampled_) + 1);
  check_cuda(cudaMemcpyAsync(staged, sampled_.data(), 2 * sizeof(std::int32_t), cudaMemcpyDeviceToHost, s),
             "sampled token download");
}

void EngineCore::fail_non_finite(std::uint32_t sequence, const float* logits, std::int32_t bad) const {
  float logit = 0;
  check_cuda(cudaMemcpy(&logit, logits + bad, sizeof(float), cudaMemcpyDeviceToHost), "non-finite logit download");
  fail("the logits after position {}{} are not finite ({} for token {}): the weights or activations hold NaN or "
       "infinity; generation stopped",
       sequences_[sequence].position - 1, sequences_.size() > 1 ? fmt::format(" of sequence {}", sequence) : "",
       logit, bad);
}

std::int32_t EngineCore::sampled_token(std::uint32_t sequence) const {
  const auto* staged = reinterpret_cast<const std::int32_t*>(staging_.data()) + 2 * options_.max_batch;
  if (const std::int32_t bad = staged[1]; bad >= 0) fail_non_finite(sequence, as_floats(logits_), bad);
  return staged[0];
}

void EngineCore::forget_logits(const float* rewritten, std::size_t count) {
  const float* end = rewritten + count * config_.vocab_size;
  for (Sequence& seq : sequences_)
    if (seq.last_logits >= rewritten && seq.last_logits < end) seq.last_logits = nullptr;
}

std::vector<float> EngineCore::sequence_logits(std::uint32_t sequence) const {
  const float* logits = sequences_.at(sequence).last_logits;
  if (logits == nullptr)
    fail("the logits of sequence {}'s last token are gone: a later step reused their buffer", sequence);
  std::vector<float> host(config_.vocab_size);
  check_cuda(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize");
  check_cuda(cudaMemcpy(host.data(), logits, host.size() * sizeof(float), cudaMemcpyDeviceToHost), "logits download");
  return host;
}

std::int32_t EngineCore::sample_and_read(std::uint32_t sequence) {
  const cudaStream_t s = stream_.get();
  forget_logits(as_floats(logits_), 1);
  sequences_[sequence].last_logits = as_floats(logits_);
  enqueue_sample(s, sequence);
  check_cuda(cudaStreamSynchronize(s), "cudaStreamSynchronize", "after sampling");
  return sampled_token(sequence);
}

std::int32_t EngineCore::prefill_sequence(std::uint32_t sequence, std::span<const std::int32_t> tokens) {
  check_tokens(sequence, tokens);
  Sequence& seq = sequences_[sequence];
  const cudaStream_t s = stream_.get();
  auto* staged = reinterpret_cast<std::int32_t*>(staging_.data());
  const std::size_t batch = options_.max_batch;
  for (std::size_t done = 0; done < tokens.size(); done += batch) {
    const std::size_t n = std::min(batch, tokens.size() - done);
    const auto start = static_cast<std::uint32_t>(seq.position + done);
    check_cuda(cudaStreamSynchronize(s), "cudaStreamSynchronize", "before reusing the staging buffer");
    for (std::size_t t = 0; t < n; ++t) {
      staged[t] = tokens[done + t];
      staged[batch + t] = static_cast<std::int32_t>(start + t);
    }
    check_cuda(cudaMemcpyAsync(tokens_.data(), staged, n * sizeof(std::int32_t), cudaMemcpyHostToDevice, s),
               "token upload");
    check_cuda(cudaMemcpyAsync(positions_.data(), staged + batch, n * sizeof(std::int32_t), cudaMemcpyHostToDevice, s),
               "position upload");
    embed(as_ints(tokens_), n, s);
    enqueue_layers(n, as_ints(positions_), start, Pass::prompt, sequence);
  }
  seq.position += static_cast<std::uint32_t>(tokens.size());
  seq.history.insert(seq.history.end(), tokens.begin(), tokens.end());
  return sample_and_read(sequence);
}

std::int32_t EngineCore::decode_sequence(std::uint32_t sequence, std::int32_t token) {
  check_tokens(sequence, std::span(&token, 1));
  Sequence& seq = sequences_[sequence];
  const cudaStream_t s = stream_.get();
  auto* staged = reinterpret_cast<std::int32_t*>(staging_.data());
  staged[0] = token;
  staged[options_.max_batch] = static_cast<std::int32_t>(seq.position);
  const bool direct = takes_direct_attention(seq.position);
  if (options_.use_cuda_graph) {
    CudaGraph& graph = seq.decode_graphs[direct ? 1 : 0];
    if (!graph.captured())
      graph.capture(s, [&](cudaStream_t stream) { enqueue_decode_step(stream, sequence, direct); });
    graph.launch(s);
  } else {
    enqueue_decode_step(s, sequence, direct);
  }
  check_cuda(cudaStreamSynchronize(s), "cudaStreamSynchronize", "after a decode step");
  forget_logits(as_floats(logits_), 1);
  seq.last_logits = as_floats(logits_);
  ++seq.position;
  seq.history.push_back(token);
  return sampled_token(sequence);
}

std::vector<float> EngineCore::logits() const {
  if (sequences_.front().last_logits != nullptr) return sequence_logits(0);
  std::vector<float> host(config_.vocab_size);  // nothing run yet: what the buffer holds
  check_cuda(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize");
  check_cuda(cudaMemcpy(host.data(), logits_.data(), host.size() * sizeof(float), cudaMemcpyDeviceToHost),
             "logits download");
  return host;
}

std::vector<float> EngineCore::forward_all_logits(std::span<const std::int32_t> tokens) {
  check_tokens(0, tokens);
  const std::size_t vocab = config_.vocab_size;
  const std::size_t batch = options_.max_batch;
  if (all_logits_.size() == 0) all_logits_ = floats(batch * vocab, "teacher-forcing logits");
  std::vector<float> result(tokens.size() * vocab);
  const cudaStream_t s = stream_.get();
  for (std::size_t done = 0; done < tokens.size(); done += batch) {
    const std::size_t n = std::min(batch, tokens.size() - done);
    (void)prefill(tokens.subspan(done, n));
    // prefill left the final residual stream in x_: logits for every row.
    kernels::rms_norm(as_floats(x_), model_.output_norm(), as_floats(normed_), n, config_.d_model,
                      config_.rms_norm_eps, s);
    model_.output().multiply(as_floats(normed_), n, as_floats(all_logits_), nullptr, model_.device(), s);
    check_cuda(cudaStreamSynchronize(s), "cudaStreamSynchronize", "teacher forcing");
    check_cuda(cudaMemcpy(result.data() + done * vocab, all_logits_.data(), n * vocab * sizeof(float),
                          cudaMemcpyDeviceToHost),
               "logits download");
  }
  return result;
}

void EngineCore::rewind_sequence(std::uint32_t sequence, std::uint32_t keep) {
  if (sequence >= sequences_.size())
    fail("sequence {} does not exist: the engine holds {} (EngineOptions::sequences)", sequence, sequences_.size());
  Sequence& seq = sequences_[sequence];
  if (keep > seq.position) fail("cannot rewind to position {}: only {} tokens are cached", keep, seq.position);
  seq.position = keep;
  seq.history.resize(keep);
  seq.sampler.reset(seq.history);
}

void EngineCore::set_sequence_sampling(std::uint32_t sequence, const SamplingParams& params) {
  if (sequence >= sequences_.size())
    fail("sequence {} does not exist: the engine holds {} (EngineOptions::sequences)", sequence, sequences_.size());
  Sequence& seq = sequences_[sequence];
  const auto step = seq.sampler.step();  // new parameters, same random sequence position
  seq.sampler = kernels::Sampler(config_.vocab_size, params, stream_.get());
  seq.sampler.reset(seq.history);
  seq.sampler.set_step(step);
  for (CudaGraph& graph : seq.decode_graphs) graph.reset();  // the graphs captured the old sampler's buffers
  if (sequence == 0) options_.sampling = params;
}

std::string EngineCore::decode_profile() const {
  if (!persistent_) fail("no decode profile: the one-token step is the graph's (--decode persistent profiles)");
  return persistent_->profile(stream_.get());
}

std::size_t EngineCore::working_vram_bytes() const {
  std::size_t bytes = kv_.bytes() + model_.own_vram_bytes();
  for (const DeviceBuffer* b : {&x_, &x_next_, &normed_, &q_, &k_, &v_, &attended_, &gate_, &up_, &logits_,
                                &all_logits_, &tokens_, &positions_, &attention_workspace_, &sampled_, &x16_,
                                &normed16_, &batch_inputs_, &batch_logits_, &batch_sampled_, &split_partials_,
                                &split_arrivals_})
    bytes += b->size();
  return bytes;
}

}  // namespace pagoda::runtime
