// Writes synthetic GGUF models: metadata as llama.cpp's converter writes it
// for the architecture, the synthetic tokenizer section, and every tensor as
// a fill callback that generates its bytes while gguf::Writer streams them.
// A fill chunk (up to the writer's 4 MiB buffer) is split over a thread pool
// at block boundaries; bytes depend only on (seed, tensor, block), never on
// how the work is split.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/cpu/thread_pool.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/model/synthetic_blocks.hpp"
#include "pagoda/quant/format_list.hpp"

namespace pagoda::model {
namespace {

using gguf::TensorType;

struct UnitContext {
  std::uint64_t seed;
  std::uint64_t tensor;  // index in the file, part of every block's RNG key
  ValueModel values;
  std::uint64_t element_count;
};

// Writes units [first, first + count) of a tensor, back to back, to `out`.
using UnitGenerator = void (*)(const UnitContext&, std::uint64_t first, std::uint64_t count, std::byte* out);

template <class F>
void generate_units(const UnitContext& c, std::uint64_t first, std::uint64_t count, std::byte* out) {
  for (std::uint64_t unit = first; unit < first + count; ++unit) {
    auto rng = synth::unit_rng(c.seed, c.tensor, unit);
    if constexpr (F::block_elements == 1) {
      const std::uint64_t begin = unit * synth::float_unit_elements;
      const auto n =
          static_cast<std::size_t>(std::min<std::uint64_t>(synth::float_unit_elements, c.element_count - begin));
      synth::random_floats<F>(rng, c.values.mean, c.values.std, n, out);
      out += n * F::block_bytes;
    } else {
      typename F::block block;
      synth::random_block<F>(rng, c.values.std, block);
      std::memcpy(out, &block, F::block_bytes);
      out += F::block_bytes;
    }
  }
}

// The bytes of one tensor, generated for any byte range on demand.
class TensorSource {
public:
  TensorSource(const PlannedTensor& tensor, std::uint64_t seed, std::uint64_t index)
      : context_{seed, index, tensor.values, 1}, fixed_(tensor.fixed_values) {
    for (const auto dim : tensor.dims) context_.element_count *= dim;
    quant::visit_format(tensor.type, [&](auto tag) {
      using F = typename decltype(tag)::type;
      generator_ = &generate_units<F>;
      unit_bytes_ = F::block_elements == 1 ? synth::float_unit_elements * F::block_bytes : F::block_bytes;
      total_bytes_ = context_.element_count / F::block_elements * F::block_bytes;
    });
    unit_count_ = (total_bytes_ + unit_bytes_ - 1) / unit_bytes_;
  }

  [[nodiscard]] std::uint64_t unit_bytes() const { return unit_bytes_; }

  void generate(std::uint64_t offset, std::span<std::byte> out) const {
    if (!fixed_.empty()) {
      std::memcpy(out.data(), reinterpret_cast<const std::byte*>(fixed_.data()) + offset, out.size());
      return;
    }
    std::uint64_t pos = offset;
    const std::uint64_t end = offset + out.size();
    std::byte* dst = out.data();
    while (pos < end) {
      const std::uint64_t unit = pos / unit_bytes_;
      const std::uint64_t unit_begin = unit * unit_bytes_;
      if (pos == unit_begin) {
        // Whole units straight into the output; at the tensor's end that
        // includes a float tensor's shorter last unit.
        const std::uint64_t count = end == total_bytes_ ? unit_count_ - unit : (end - pos) / unit_bytes_;
        if (count > 0) {
          generator_(context_, unit, count, dst);
          const std::uint64_t done = std::min((unit + count) * unit_bytes_, total_bytes_) - pos;
          pos += done;
          dst += done;
          continue;
        }
      }
      // A chunk boundary inside a unit: generate the unit aside, copy the overlap.
      std::array<std::byte, max_unit_bytes> scratch;
      generator_(context_, unit, 1, scratch.data());
      const std::uint64_t unit_end = std::min(unit_begin + unit_bytes_, total_bytes_);
      const std::uint64_t take = std::min(end, unit_end) - pos;
      std::memcpy(dst, scratch.data() + (pos - unit_begin), take);
      pos += take;
      dst += take;
    }
  }

private:
  static constexpr std::size_t max_unit_bytes = synth::float_unit_elements * 4;  // F32 units are the largest

  UnitContext context_;
  std::vector<float> fixed_;
  UnitGenerator generator_ = nullptr;
  std::uint64_t unit_bytes_ = 1;
  std::uint64_t total_bytes_ = 0;
  std::uint64_t unit_count_ = 0;
};

// What every fill callback of one file shares.
struct FillState {
  explicit FillState(unsigned threads) : pool(threads) {}
  cpu::ThreadPool pool;
  std::uint64_t done = 0;  // written by the one thread that drives the writer
  std::uint64_t total = 0;
  std::function<void(std::uint64_t, std::uint64_t)> progress;
};

constexpr std::size_t parallel_min_bytes = 256 * 1024;

// `first`: the file's first tensor, whose start begins a new write (progress restarts).
gguf::TensorFill make_fill(std::shared_ptr<FillState> state, std::shared_ptr<const TensorSource> source, bool first) {
  return [state = std::move(state), source = std::move(source), first](std::uint64_t offset,
                                                                        std::span<std::byte> out) {
    if (first && offset == 0) state->done = 0;
    const std::size_t parts = state->pool.size();
    if (out.size() < parallel_min_bytes || parts == 1) {
      source->generate(offset, out);
    } else {
      // Split at unit boundaries so no unit is generated twice.
      const std::uint64_t unit = source->unit_bytes();
      const auto boundary = [&](std::size_t i) -> std::uint64_t {
        if (i == 0) return 0;
        if (i == parts) return out.size();
        const std::uint64_t at = offset + out.size() * i / parts;
        return std::min<std::uint64_t>((at + unit - 1) / unit * unit - offset, out.size());
      };
      state->pool.parallel_for(parts, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
          const std::uint64_t lo = boundary(i), hi = boundary(i + 1);
          if (hi > lo) source->generate(offset + lo, out.subspan(lo, hi - lo));
        }
      });
    }
    state->done += out.size();
    if (state->progress) state->progress(state->done, state->total);
  };
}

// llama.cpp's general.file_type (llama_ftype) for a recipe.
std::uint32_t file_type_of(const QuantRecipe& recipe) {
  if (recipe.kind == QuantRecipe::Kind::q4_k_m) return 15;
  switch (recipe.format) {
    case TensorType::F32: return 0;
    case TensorType::F16: return 1;
    case TensorType::Q4_0: return 2;
    case TensorType::Q4_1: return 3;
    case TensorType::Q8_0: return 7;
    case TensorType::Q5_0: return 8;
    case TensorType::Q5_1: return 9;
    case TensorType::Q2_K: return 10;
    case TensorType::Q3_K: return 11;  // Q3_K_S: all Q3_K
    case TensorType::Q4_K: return 14;  // Q4_K_S
    case TensorType::Q5_K: return 16;  // Q5_K_S
    case TensorType::Q6_K: return 18;
    case TensorType::BF16: return 32;
    default: fail("no llama.cpp file type for {}", gguf::name_of(recipe.format));
  }
}

void add_model_metadata(gguf::Writer& w, const SyntheticSpec& spec) {
  const SyntheticShape& s = spec.shape;
  const auto key = [&](std::string_view name) { return fmt::format("{}.{}", s.architecture, name); };
  w.add("general.architecture", std::string_view(s.architecture));
  w.add("general.type", std::string_view("model"));
  w.add("general.name", std::string_view(fmt::format("synthetic {} {}", s.name, spec.recipe.name())));
  w.add("general.file_type", file_type_of(spec.recipe));
  w.add("general.quantization_version", std::uint32_t{2});
  w.set_alignment(gguf::default_alignment);
  w.add(key("block_count"), s.n_layers);
  w.add(key("context_length"), s.context);
  w.add(key("embedding_length"), s.d_model);
  w.add(key("feed_forward_length"), s.d_ffn);
  w.add(key("attention.head_count"), s.n_heads);
  w.add(key("attention.head_count_kv"), s.n_kv_heads);
  if (s.head_dim != 0 && s.head_dim * s.n_heads != s.d_model) {
    w.add(key("attention.key_length"), s.head_dim);
    w.add(key("attention.value_length"), s.head_dim);
  }
  w.add(key("attention.layer_norm_rms_epsilon"), s.rms_eps);
  if (s.sliding_window != 0) w.add(key("attention.sliding_window"), s.sliding_window);
  w.add(key("rope.freq_base"), s.rope_base);
  w.add(key("rope.dimension_count"), s.effective_head_dim());
  w.add(key("vocab_size"), s.vocab);
  // Provenance, so a benchmark can say what it ran.
  w.add("pagoda.synthetic.shape", std::string_view(s.name));
  w.add("pagoda.synthetic.recipe", std::string_view(spec.recipe.name()));
  w.add("pagoda.synthetic.seed", spec.seed);
}

void add_tokenizer_metadata(gguf::Writer& w, const SyntheticTokenizer& tokenizer) {
  const text::Vocabulary& v = tokenizer.vocabulary;
  w.add("tokenizer.ggml.model", text::gguf_name_of(v.kind));
  w.add("tokenizer.ggml.pre", std::string_view(v.pretokenizer));
  w.add_array("tokenizer.ggml.tokens", v.tokens);
  if (!v.scores.empty()) w.add_array("tokenizer.ggml.scores", v.scores);
  std::vector<std::int32_t> types;
  types.reserve(v.token_types.size());
  for (const auto type : v.token_types) types.push_back(static_cast<std::int32_t>(type));
  w.add_array("tokenizer.ggml.token_type", types);
  if (v.kind == text::TokenizerKind::ByteLevelBpe) w.add_array("tokenizer.ggml.merges", v.merges);
  const auto add_id = [&](std::string_view name, const std::optional<std::int32_t>& id) {
    if (id) w.add(fmt::format("tokenizer.ggml.{}", name), static_cast<std::uint32_t>(*id));
  };
  add_id("bos_token_id", v.bos_id);
  add_id("eos_token_id", v.eos_id);
  add_id("unknown_token_id", v.unk_id);
  add_id("padding_token_id", v.pad_id);
  add_id("eot_token_id", v.eot_id);
  w.add("tokenizer.ggml.add_bos_token", v.add_bos);
  w.add("tokenizer.ggml.add_eos_token", v.add_eos);
  w.add("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  w.add("tokenizer.chat_template", std::string_view(tokenizer.chat_template));
}

}  // namespace

gguf::Writer synthetic_writer(const SyntheticSpec& spec, SyntheticReport* report) {
  const SyntheticPlan plan = plan_tensors(spec.shape, spec.recipe);
  gguf::Writer w;
  add_model_metadata(w, spec);
  add_tokenizer_metadata(w, synthetic_tokenizer(spec.shape));

  auto state = std::make_shared<FillState>(spec.threads);
  state->progress = spec.progress;
  for (std::size_t i = 0; i < plan.tensors.size(); ++i) {
    const PlannedTensor& t = plan.tensors[i];
    state->total += gguf::tensor_byte_size(t.name, t.dims, t.type);
    auto source = std::make_shared<const TensorSource>(t, spec.seed, i);
    w.add_tensor(t.name, t.dims, t.type, make_fill(state, std::move(source), i == 0));
  }
  if (report) {
    report->file_bytes = w.size();
    report->tensor_bytes = state->total;
    report->tensor_count = w.tensor_count();
    report->parameter_count = plan.parameter_count;
    report->fallbacks = plan.fallbacks;
  }
  return w;
}

std::vector<std::byte> synthetic_bytes(const SyntheticSpec& spec) { return synthetic_writer(spec).to_bytes(); }

SyntheticReport write_synthetic(const SyntheticSpec& spec, const std::filesystem::path& path) {
  const auto start = std::chrono::steady_clock::now();
  SyntheticReport report;
  const gguf::Writer writer = synthetic_writer(spec, &report);
  writer.write(path);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace pagoda::model
