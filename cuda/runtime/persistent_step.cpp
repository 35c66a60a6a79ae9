#include "pagoda/runtime/persistent_step.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/kernels/gemv_streams.cuh"
#include "pagoda/quant/field_streams.hpp"
#include "pagoda/runtime/persistent_profile.hpp"

namespace pagoda::runtime {

namespace {

namespace ps = kernels::persistent;

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// The index of `matrix`'s format in quant::field_stream_formats, or nullopt.
std::optional<std::uint32_t> stream_format_of(const DeviceMatrix& matrix) {
  std::optional<std::uint32_t> index;
  quant::visit_field_stream_format(matrix.info->type, [&](auto tag) {
    index = ps::stream_format_index<typename decltype(tag)::type>;
  });
  return index;
}

// Why `matrix` cannot be a persistent product, or nullopt.
std::optional<std::string> unusable(const DeviceMatrix& matrix) {
  const std::string name = matrix.info ? std::string(matrix.info->name) : std::string("a matrix");
  if (matrix.layout != quant::WeightLayout::field_streams)
    return fmt::format("{} is in the {} layout (the persistent step multiplies field streams only: "
                       "--mapping device-copy with --layout auto or packed)",
                       name, quant::name_of(matrix.layout));
  if (!stream_format_of(matrix)) return fmt::format("{} has no field-streams format", name);
  if (!aligned16(matrix.data)) return fmt::format("{} is not 16-byte aligned", name);
  if (matrix.cols % 32 != 0 || matrix.cols > kernels::gemv_streams_max_cols)
    return fmt::format("{} has {} columns (a multiple of 32, at most {})", name, matrix.cols,
                       kernels::gemv_streams_max_cols);
  return std::nullopt;
}

ps::GemvPart part(const DeviceMatrix& m, float* y, const float* residual, std::uint32_t first) {
  return {m.data, y, residual, static_cast<std::uint32_t>(m.rows), first, *stream_format_of(m),
          static_cast<std::uint32_t>(m.info->row_bytes())};
}

// The format of most of the layers' product rows (items are rows, and an
// item in another format is a call): the kernel multiplies it inline.
gguf::TensorType main_format_of(const DeviceModel& model) {
  std::map<gguf::TensorType, std::uint64_t> rows;
  for (const DeviceLayer& layer : model.layers())
    for (const DeviceMatrix* m : {&layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.w_gate, &layer.w_up, &layer.w_down})
      rows[m->info->type] += m->rows;
  return std::max_element(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second < b.second; })
      ->first;
}

// Plans `item`'s copies into one shared-memory stage of `stage` bytes where
// its weights can be staged (the kernel's bulk copies: each part's rows a
// whole number of field-streams groups, or the matrix's last rows, 16-byte
// multiples, together at most a stage): Item::stage_bytes, copy_bytes and
// copy_from, in part order. Otherwise leaves them 0: the item reads in place.
void plan_stage(const ps::Op& op, ps::Item& item, std::size_t stage) {
  if (op.kind != ps::Kind::gemv || stage == 0) return;
  ps::Item planned = item;
  std::size_t total = 0;
  int copies = 0;
  for (std::uint32_t p = 0; p < op.gemv.part_count; ++p) {
    const ps::GemvPart& part = op.gemv.parts[p];
    const ps::RowRange r = ps::part_rows(op.gemv, p, item.first, item.count);
    if (r.lo == r.hi) continue;
    const std::size_t bytes = std::size_t{r.hi - r.lo} * part.row_bytes;
    if (r.lo % quant::field_stream_group_rows != 0 || (r.hi % quant::field_stream_group_rows != 0 && r.hi != part.rows) ||
        bytes % 16 != 0)
      return;
    planned.copy_from[copies] = part.weights + std::size_t{r.lo} * part.row_bytes;
    planned.copy_bytes[copies] = static_cast<std::uint32_t>(bytes);
    ++copies;
    total += bytes;
  }
  if (total == 0 || total > stage) return;
  planned.stage_bytes = static_cast<std::uint32_t>(total);
  item = planned;
}

template <class T>
DeviceBuffer upload(const std::vector<T>& values, const char* what) {
  DeviceBuffer buffer(std::max<std::size_t>(values.size() * sizeof(T), 16), what);
  check_cuda(cudaMemcpy(buffer.data(), values.data(), values.size() * sizeof(T), cudaMemcpyHostToDevice), what);
  return buffer;
}

}  // namespace

std::optional<std::string> PersistentStep::unsupported(const model::ModelConfig& config, const DeviceModel& model) {
  if (config.head_dim == 0 || config.head_dim > 256 || config.head_dim % 8 != 0)
    return fmt::format("head_dim {} (the persistent step's attention takes multiples of 8 up to 256)",
                       config.head_dim);
  if (model.layers().empty()) return "the model has no layers";
  if (config.n_kv_heads == 0 || config.n_heads % config.n_kv_heads != 0)
    return fmt::format("{} query heads over {} KV heads", config.n_heads, config.n_kv_heads);
  for (const DeviceLayer& layer : model.layers()) {
    for (const DeviceMatrix* m : {&layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.w_gate, &layer.w_up, &layer.w_down})
      if (auto why = unusable(*m)) return why;
    if (stream_format_of(layer.w_gate) != stream_format_of(layer.w_up))
      return fmt::format("{} and {} differ in format (a persistent gated product reads one)", layer.w_gate.info->name,
                         layer.w_up.info->name);
    if (!aligned16(layer.attn_norm) || !aligned16(layer.ffn_norm)) return "a norm weight is not 16-byte aligned";
    // The architecture's facts decide the steps; the weights must be there for them.
    if (config.architecture.post_norms && (layer.post_attn_norm == nullptr || layer.post_ffn_norm == nullptr))
      return "a post-norm architecture without its post-norm weights";
    if (config.architecture.qk_norm && (layer.q_norm == nullptr || layer.k_norm == nullptr))
      return "a qk-norm architecture without its q and k norm weights";
  }
  if (!aligned16(model.output_norm())) return "the output norm is not 16-byte aligned";
  return std::nullopt;
}

PersistentStep::PersistentStep(const model::ModelConfig& config, const DeviceModel& model, const KvCache& kv,
                               std::uint32_t sequences, const StepBuffers& buffers, unsigned grid,
                               const DecodeSchedulePolicy& policy, bool prefetch)
    : buffers_(buffers), policy_(policy), prefetch_(prefetch) {
  if (auto why = unsupported(config, model)) fail("the persistent decode step cannot run this model: {}", *why);
  // The merge gives each split a thread; a warp task is two rows (an odd
  // count would have two items compute one task).
  if (policy_.attention_splits > ps::block_threads || policy_.gemv_rows % ps::rows_per_task != 0)
    fail("persistent step: at most {} attention splits and an even number of rows an item (got {} and {})",
         ps::block_threads, policy_.attention_splits, policy_.gemv_rows);
  // The logits inside only in the main format: the output matrix is the
  // step's largest (128256 rows of an 8B), a call per item in another format
  // would cost more than the one launch of the graph's GEMV after the kernel.
  main_format_ = main_format_of(model);
  logits_inside_ = !unusable(model.output()).has_value() && model.output().info->type == main_format_;
  max_cols_ = std::max({std::size_t{config.d_model}, std::size_t{config.q_dim()}, std::size_t{config.d_ffn}});

  // Shared memory: x (or the attention tiles), then two weight stages of
  // what is left (sm_90's bulk copies; none without prefetch, for measurement).
  stage_offset_ = ps::stage_offset(max_cols_);
  const std::size_t most = ps::max_dynamic_shared(main_format_);
  if (prefetch && model.device().compute_capability() >= 90 && most > stage_offset_)
    stage_bytes_ = (most - stage_offset_) / 2 / 128 * 128;
  shared_bytes_ = stage_bytes_ != 0 ? stage_offset_ + 2 * stage_bytes_ : ps::shared_bytes(max_cols_);
  // A product whose items' weights would not fit a stage is cut finer, down
  // to one field-streams group (8 rows); one that still does not fit reads
  // its weights in place.
  if (stage_bytes_ != 0) fit_items_to_stage(model);
  for (const DecodeOp op : {DecodeOp::qkv, DecodeOp::output, DecodeOp::gate_up, DecodeOp::down, DecodeOp::logits})
    if (policy_.rows_of(op) % ps::rows_per_task != 0)
      fail("persistent step: an even number of rows an item ({} has {})", name_of(op), policy_.rows_of(op));
  schedule_ = build_decode_schedule(config, policy_);
  validate(schedule_, config, policy_);

  attention_workspace_ = DeviceBuffer(std::size_t{policy_.attention_splits} * config.n_heads *
                                          (config.head_dim + 2) * sizeof(float),
                                      "persistent step: attention workspace");
  std::vector<std::vector<ps::Op>> ops;  // each sequence's (their caches differ); the weights are the same
  for (std::uint32_t sequence = 0; sequence < sequences; ++sequence)
    ops.push_back(ops_for(config, model, kv, sequence));

  // The device's list: the schedule without what runs outside the kernel
  // (the embedding before it; the draw, and the logits unless inside, after
  // it). Items that waited on the embedding wait on nothing: it is a launch
  // before this one on the same stream.
  std::vector<ps::Item> items;
  std::size_t largest_stage = 0;
  const std::uint32_t embed = schedule_.counter_of(DecodeOp::embed, 0);
  for (const DecodeInstruction& in : schedule_.instructions) {
    if (in.op == DecodeOp::embed || in.op == DecodeOp::sample || (in.op == DecodeOp::logits && !logits_inside_))
      continue;
    op_of_item_.push_back(in.op);
    ps::Item item{};
    item.op = in.done_counter;
    item.first = in.first;
    item.count = in.count;
    item.wait_counter = in.wait_counter == embed ? ps::no_counter : in.wait_counter;
    item.wait_count = in.wait_counter == embed ? 0u : in.wait_count;
    if (!ops.empty()) plan_stage(ops.front()[in.done_counter], item, stage_bytes_);
    staged_items_ += item.stage_bytes != 0;
    largest_stage = std::max<std::size_t>(largest_stage, item.stage_bytes);
    items.push_back(item);
  }
  item_count_ = static_cast<std::uint32_t>(items.size());
  items_host_ = items;
  // Stages no larger than the largest staged item: the shared memory they
  // do not need stays L1 (which the descriptors, x and the KV rows use).
  stage_bytes_ = (largest_stage + 127) / 128 * 128;
  shared_bytes_ = stage_bytes_ != 0 ? stage_offset_ + 2 * stage_bytes_ : ps::shared_bytes(max_cols_);
  // The ops after them where they fit: every item reads its op's fields, and
  // from shared memory that is ~30 cycles where L2 is ~600.
  const std::size_t ops_bytes = schedule_.signals.size() * sizeof(ps::Op);
  const std::size_t ops_at = (shared_bytes_ + 127) / 128 * 128;
  if (ops_at + ops_bytes <= most) {
    ops_offset_ = ops_at;
    shared_ops_ = static_cast<std::uint32_t>(schedule_.signals.size());
    shared_bytes_ = ops_at + ops_bytes;
  }

  // What fits at once: a block beyond it would start only as others finish.
  const int per_sm = ps::resident_blocks_per_sm(main_format_, shared_bytes_);
  max_grid_ = static_cast<unsigned>(std::max(per_sm, 0) * model.device().multiprocessors());
  if (max_grid_ == 0)
    fail("the persistent decode step does not fit an SM ({} bytes of shared memory a block for {} columns)",
         shared_bytes_, max_cols_);
  grid_ = grid == 0 ? max_grid_ : grid;
  if (grid_ > max_grid_)
    fail("a persistent grid of {} blocks cannot all be resident at once on this GPU ({} SMs x {} blocks = {}): "
         "the blocks past that would only start as others finish",
         grid_, model.device().multiprocessors(), per_sm, max_grid_);
  items_ = upload(items, "persistent step: items");
  signals_ = upload(schedule_.signals, "persistent step: signals");
  counters_ = DeviceBuffer(schedule_.signals.size() * sizeof(std::uint32_t), "persistent step: counters");
  check_cuda(cudaMemset(counters_.data(), 0, counters_.size()), "persistent step: counters");
  epoch_ = DeviceBuffer(3 * sizeof(std::uint32_t), "persistent step: epoch");  // epoch, blocks exited, tickets
  check_cuda(cudaMemset(epoch_.data(), 0, epoch_.size()), "persistent step: epoch");
  // Uploaded now: a step may be enqueued while its stream is capturing a
  // graph, where no copy may run.
  for (const std::vector<ps::Op>& sequence_ops : ops) ops_.push_back(upload(sequence_ops, "persistent step: ops"));
  // The uploads and zeroed counters were on the legacy stream, which the
  // engine's stream does not wait for: done before any step.
  check_cuda(cudaDeviceSynchronize(), "persistent step: cudaDeviceSynchronize after set-up");
}

void PersistentStep::fit_items_to_stage(const DeviceModel& model) {
  const auto fit = [&](DecodeOp op, std::size_t bytes_a_row) {  // bytes_a_row: the most an op row takes
    std::uint32_t rows = policy_.rows_of(op);
    while (rows > quant::field_stream_group_rows && rows * bytes_a_row > stage_bytes_) rows /= 2;
    if (rows % quant::field_stream_group_rows != 0) return;  // a policy of odd sizes is kept as asked
    if (rows != policy_.rows_of(op)) policy_.rows_by_op[static_cast<std::size_t>(op)] = rows;
  };
  std::size_t qkv = 0, output = 0, gate_up = 0, down = 0;
  for (const DeviceLayer& layer : model.layers()) {
    qkv = std::max({qkv, layer.wq.info->row_bytes(), layer.wk.info->row_bytes(), layer.wv.info->row_bytes()});
    output = std::max(output, layer.wo.info->row_bytes());
    gate_up = std::max(gate_up, layer.w_gate.info->row_bytes() + layer.w_up.info->row_bytes());
    down = std::max(down, layer.w_down.info->row_bytes());
  }
  fit(DecodeOp::qkv, qkv);
  fit(DecodeOp::output, output);
  fit(DecodeOp::gate_up, gate_up);
  fit(DecodeOp::down, down);
  if (logits_inside_) fit(DecodeOp::logits, model.output().info->row_bytes());
}

std::vector<kernels::persistent::Op> PersistentStep::ops_for(const model::ModelConfig& config,
                                                             const DeviceModel& model, const KvCache& kv,
                                                             std::uint32_t sequence) const {
  const auto& c = config;
  const StepBuffers& b = buffers_;
  const bool post = c.architecture.post_norms;
  std::vector<ps::Op> ops(schedule_.counter_ops.size());  // value-initialised: every pointer null
  auto* ws = reinterpret_cast<float*>(attention_workspace_.data());
  const std::size_t slots = std::size_t{policy_.attention_splits} * c.n_heads;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ps::Op& op = ops[i];
    const DecodeOp kind = schedule_.counter_ops[i].op;
    const std::uint32_t l = schedule_.counter_ops[i].layer;
    const DeviceLayer* layer = l < model.layers().size() ? &model.layers()[l] : nullptr;
    const auto gemv = [&](const float* x, std::uint32_t cols, const float* norm) {
      op.kind = ps::Kind::gemv;
      op.gemv.x = x;
      op.gemv.cols = cols;
      op.gemv.norm_weight = norm;
      op.gemv.norm_eps = c.rms_norm_eps;
    };
    const auto attention = [&] {
      const model::LayerSpec& spec = c.layers[l];
      op.attention = {b.q,
                      kv.keys(l, sequence),
                      kv.values(l, sequence),
                      {c.n_heads, c.n_kv_heads, c.head_dim, kv.context(), c.attention_scale, spec.sliding_window},
                      policy_.attention_splits,
                      ws,
                      ws + slots * c.head_dim,
                      ws + slots * c.head_dim + slots,
                      b.attended};
    };
    switch (kind) {
      case DecodeOp::embed:
      case DecodeOp::sample: break;  // outside the kernel
      case DecodeOp::qkv:
        gemv(b.x, c.d_model, layer->attn_norm);
        op.gemv.parts[0] = part(layer->wq, b.q, layer->q_bias, 0);
        op.gemv.parts[1] = part(layer->wk, b.k, layer->k_bias, c.q_dim());
        op.gemv.parts[2] = part(layer->wv, b.v, layer->v_bias, c.q_dim() + c.kv_dim());
        op.gemv.part_count = 3;
        break;
      case DecodeOp::rope_kv: {
        const model::LayerSpec& spec = c.layers[l];
        op.kind = ps::Kind::rope_kv;
        op.rope = {b.q,
                   b.k,
                   b.v,
                   kv.keys(l, sequence),
                   kv.values(l, sequence),
                   c.n_heads,
                   c.n_kv_heads,
                   c.head_dim,
                   spec.rope.dimensions / 2,
                   static_cast<double>(spec.rope.freq_base),
                   static_cast<double>(spec.rope.linear_scale),
                   model.rope_freq_factors(),
                   spec.rope.layout == model::RopeLayout::neox,
                   c.architecture.qk_norm ? layer->q_norm : nullptr,
                   c.architecture.qk_norm ? layer->k_norm : nullptr,
                   c.rms_norm_eps};
        break;
      }
      case DecodeOp::attention_split:
        op.kind = ps::Kind::attention_split;
        attention();
        break;
      case DecodeOp::attention_merge:
        op.kind = ps::Kind::attention_merge;
        attention();
        break;
      case DecodeOp::output:  // into the other stream buffer with the residual, or into normed for the post-norm
        gemv(b.attended, c.q_dim(), nullptr);
        op.gemv.parts[0] = part(layer->wo, post ? b.normed : b.x_next, post ? nullptr : b.x, 0);
        op.gemv.part_count = 1;
        break;
      case DecodeOp::post_attention:
        op.kind = ps::Kind::post_norm;
        op.post = {b.normed, layer->post_attn_norm, c.rms_norm_eps, b.x, b.x_next, c.d_model};
        break;
      case DecodeOp::gate_up:  // the stream is in x_next now
        gemv(b.x_next, c.d_model, layer->ffn_norm);
        op.gemv.parts[0] = part(layer->w_gate, b.gate, nullptr, 0);
        op.gemv.parts[1] = part(layer->w_up, nullptr, nullptr, 0);
        op.gemv.part_count = 2;
        op.gemv.gated = true;
        op.gemv.activation = c.architecture.ffn_activation;
        break;
      case DecodeOp::down:  // back into x
        gemv(b.gate, c.d_ffn, nullptr);
        op.gemv.parts[0] = part(layer->w_down, post ? b.normed : b.x, post ? nullptr : b.x_next, 0);
        op.gemv.part_count = 1;
        break;
      case DecodeOp::post_ffn:
        op.kind = ps::Kind::post_norm;
        op.post = {b.normed, layer->post_ffn_norm, c.rms_norm_eps, b.x_next, b.x, c.d_model};
        break;
      case DecodeOp::logits:
        if (!logits_inside_) break;
        gemv(b.x, c.d_model, model.output_norm());
        op.gemv.parts[0] = part(model.output(), b.logits, nullptr, 0);
        op.gemv.part_count = 1;
        break;
    }
  }
  return ops;
}

void PersistentStep::enqueue(cudaStream_t stream, std::uint32_t sequence, const std::int32_t* position) {
  if (sequence >= ops_.size()) fail("persistent step: sequence {} does not exist ({} held)", sequence, ops_.size());
  auto* epoch = reinterpret_cast<std::uint32_t*>(epoch_.data());
  const ps::Program program{reinterpret_cast<const ps::Item*>(items_.data()),
                            item_count_,
                            reinterpret_cast<const ps::Op*>(ops_[sequence].data()),
                            reinterpret_cast<const std::uint32_t*>(signals_.data()),
                            reinterpret_cast<std::uint32_t*>(counters_.data()),
                            epoch,
                            epoch + 1,
                            epoch + 2,
                            position,
                            prefetch_,
                            static_cast<std::uint32_t>(stage_offset_),
                            static_cast<std::uint32_t>(stage_bytes_),
                            static_cast<std::uint32_t>(ops_offset_),
                            shared_ops_,
                            reinterpret_cast<unsigned long long*>(stamps_.data())};
  ps::launch(program, main_format_, shared_bytes_, grid_, stream);
}

void PersistentStep::enable_profile() {
  if (stamps_.size() == 0)
    stamps_ = DeviceBuffer(std::size_t{item_count_} * ps::stamps_per_item * sizeof(unsigned long long),
                           "persistent step: profile stamps");
}

std::string PersistentStep::profile(cudaStream_t stream) const {
  if (stamps_.size() == 0) fail("persistent step: profiling is off (EngineOptions::persistent_profile)");
  std::vector<unsigned long long> s(std::size_t{item_count_} * ps::stamps_per_item);
  check_cuda(cudaStreamSynchronize(stream), "persistent step profile: cudaStreamSynchronize");
  check_cuda(cudaMemcpy(s.data(), stamps_.data(), s.size() * sizeof(unsigned long long), cudaMemcpyDeviceToHost),
             "persistent step profile: stamps download");
  std::vector<ProfiledItem> items(item_count_);
  for (std::uint32_t i = 0; i < item_count_; ++i) {
    const unsigned long long* t = &s[ps::stamps_per_item * i];
    items[i] = {op_of_item_[i], items_host_[i].op, items_host_[i].wait_counter, t[0], t[1], t[2],
                static_cast<std::uint32_t>(t[3])};
  }
  return summarize_persistent_profile(items, grid_).text();
}

std::string PersistentStep::describe() const {
  std::string rows = fmt::format("{}", policy_.gemv_rows);
  for (std::size_t op = 0; op < decode_op_count; ++op)
    if (policy_.rows_by_op[op] != 0)
      rows += fmt::format(" ({} {})", name_of(static_cast<DecodeOp>(op)), policy_.rows_by_op[op]);
  return fmt::format("persistent: one launch of {} blocks ({} at most) over {} items of {} ops, {} rows an item, "
                     "{} products inline, next item prefetched {} ({} items staged in shared memory, two stages of "
                     "{} KiB a block), ops {}{}",
                     grid_, max_grid_, item_count_, schedule_.signals.size(), rows,
                     gguf::name_of(main_format_), prefetch_ ? "on" : "off", staged_items_, stage_bytes_ / 1024,
                     shared_ops_ != 0 ? "in shared memory" : "read from L2 (they do not fit in shared memory beside x and the stages)",
                     logits_inside_ ? ", logits inside"
                                    : ", logits in their own launch (the output matrix is not in field streams or "
                                      "not in the main format)");
}

}  // namespace pagoda::runtime
