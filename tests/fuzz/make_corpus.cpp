// Generates the GGUF fuzzer's seed corpus (tests/fuzz/corpus/): small valid
// files covering every value type, nested arrays, several tensor types and
// alignments, both versions; and near-valid ones, each a valid file with one
// field broken, so the fuzzer starts next to every refusal path.
//
//   ninja -C build-fuzz make_corpus && ./build-fuzz/make_corpus tests/fuzz/corpus
//
// Output is deterministic: rerunning rewrites identical files.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/file.hpp"
#include "pagoda/gguf/writer.hpp"

namespace {

using namespace pagoda::gguf;
using Bytes = std::vector<std::byte>;

Bytes pattern(std::size_t n, std::uint32_t seed) {
  Bytes out(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::byte>(x >> 24);
  }
  return out;
}

void add_tensor(Writer& writer, const std::string& name, std::vector<std::uint64_t> dims, TensorType type,
                std::uint32_t seed) {
  const auto size = tensor_byte_size(name, dims, type);
  writer.add_tensor(name, std::move(dims), type, pattern(size, seed));
}

Writer scalars() {
  Writer w;
  w.add("u8", std::uint8_t{200}).add("i8", std::int8_t{-100}).add("u16", std::uint16_t{60000});
  w.add("i16", std::int16_t{-30000}).add("u32", std::uint32_t{4000000000u}).add("i32", std::int32_t{-5});
  w.add("u64", std::uint64_t{1} << 63).add("i64", std::int64_t{-1}).add("f32", 0.5f).add("f64", -2.25);
  w.add("yes", true).add("no", false);
  return w;
}

Writer strings() {
  Writer w;
  w.add("general.architecture", "llama").add("general.name", "corpus").add("empty", "");
  w.add_array("tokenizer.ggml.tokens", {"<s>", "</s>", "a", "b", "ab", "\xe2\x96\x81the", ""});
  w.add_array("tokenizer.ggml.merges", {"a b", "\xe2\x96\x81 t"});
  return w;
}

Writer arrays() {
  Writer w;
  w.add_array("u8", {std::uint8_t{1}, std::uint8_t{2}}).add_array("i8", {std::int8_t{-1}});
  w.add_array("u16", {std::uint16_t{7}}).add_array("i16", {std::int16_t{-7}, std::int16_t{8}});
  w.add_array("u32", {1u, 2u, 3u}).add_array("i32", {-1, 0, 1}).add_array("u64", {std::uint64_t{9}});
  w.add_array("i64", {std::int64_t{-9}}).add_array("f32", {0.25f, -1.0f}).add_array("f64", {1e300});
  w.add_array("bool", {true, false, true}).add("empty", EncodedValue::empty_array(ValueType::FLOAT32));
  return w;
}

Writer nested() {
  Writer w;
  const auto row = EncodedValue::array({1.0f, 2.0f});
  const auto words = EncodedValue::array({"x", "yz"});
  w.add("matrix", EncodedValue::array({row, row, EncodedValue::array({3.0f})}));
  w.add("mixed", EncodedValue::array({EncodedValue::array({1, 2}), words, EncodedValue::empty_array(ValueType::BOOL)}));
  EncodedValue deep = EncodedValue::array({std::uint8_t{1}});
  for (int depth = 2; depth <= max_array_depth; ++depth) deep = EncodedValue::array({deep});
  w.add("deepest", deep).add("empty", EncodedValue::empty_array(ValueType::ARRAY));
  return w;
}

Writer float_tensors(std::uint32_t version) {
  Writer w;
  w.set_version(version).add("general.architecture", "test");
  add_tensor(w, "f32", {5, 3}, TensorType::F32, 1);
  add_tensor(w, "f16", {7}, TensorType::F16, 2);
  add_tensor(w, "bf16", {3, 1, 2}, TensorType::BF16, 3);
  add_tensor(w, "i32", {2, 2, 2, 2}, TensorType::I32, 4);
  return w;
}

Writer quant_tensors() {
  Writer w;
  add_tensor(w, "q4_0", {64, 2}, TensorType::Q4_0, 5);
  add_tensor(w, "q4_1", {32, 3}, TensorType::Q4_1, 6);
  add_tensor(w, "q8_0", {32}, TensorType::Q8_0, 7);
  add_tensor(w, "q4_k", {256}, TensorType::Q4_K, 8);
  add_tensor(w, "q6_k", {256, 2}, TensorType::Q6_K, 9);
  add_tensor(w, "mxfp4", {32}, TensorType::MXFP4, 10);
  return w;
}

Writer aligned(std::uint32_t alignment) {
  Writer w;
  w.set_alignment(alignment).add("general.architecture", "test");
  add_tensor(w, "a", {3}, TensorType::F32, 11);
  add_tensor(w, "b", {32}, TensorType::Q4_1, 12);
  return w;
}

// A tiny llama-shaped model: the keys and tensor names a loader looks for.
Writer tiny_llama() {
  Writer w;
  w.add("general.architecture", "llama").add("general.name", "tiny").add("general.alignment", std::uint32_t{32});
  w.add("llama.block_count", 1u).add("llama.context_length", 64u).add("llama.embedding_length", 32u);
  w.add("llama.feed_forward_length", 64u).add("llama.attention.head_count", 2u);
  w.add("llama.attention.head_count_kv", 1u).add("llama.rope.freq_base", 10000.0f);
  w.add("llama.attention.layer_norm_rms_epsilon", 1e-5f).add("tokenizer.ggml.model", "gpt2");
  w.add_array("tokenizer.ggml.tokens", {"<unk>", "a", "b", "c", "ab", "bc"});
  w.add_array("tokenizer.ggml.token_type", {2, 1, 1, 1, 1, 1});
  w.add_array("tokenizer.ggml.merges", {"a b", "b c"});
  w.add("tokenizer.ggml.bos_token_id", 0u).add("tokenizer.ggml.eos_token_id", 0u);
  add_tensor(w, "token_embd.weight", {32, 6}, TensorType::Q4_1, 13);
  add_tensor(w, "blk.0.attn_norm.weight", {32}, TensorType::F32, 14);
  add_tensor(w, "blk.0.attn_q.weight", {32, 32}, TensorType::Q4_0, 15);
  add_tensor(w, "blk.0.ffn_down.weight", {64, 32}, TensorType::Q8_0, 16);
  add_tensor(w, "output_norm.weight", {32}, TensorType::F32, 17);
  return w;
}

template <class T>
void patch(Bytes& bytes, std::uint64_t at, T value) {
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

// Where tensor i's data offset field sits in the file.
std::uint64_t offset_field(const File& file, std::size_t i) {
  const auto& t = file.tensors()[i];
  return t.info_file_offset + 8 + t.name.size() + 4 + 8 * t.dims.size() + 4;
}

void save(const std::filesystem::path& dir, const std::string& name, const Bytes& bytes) {
  std::ofstream out(dir / (name + ".gguf"), std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) pagoda::fail("{}: cannot write", (dir / name).string());
  std::printf("%-28s %6zu bytes\n", (name + ".gguf").c_str(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);

    save(dir, "empty", Writer().to_bytes());
    save(dir, "scalars", scalars().to_bytes());
    save(dir, "strings", strings().to_bytes());
    save(dir, "arrays", arrays().to_bytes());
    save(dir, "nested", nested().to_bytes());
    save(dir, "float_tensors_v3", float_tensors(3).to_bytes());
    save(dir, "float_tensors_v2", float_tensors(2).to_bytes());
    save(dir, "quant_tensors", quant_tensors().to_bytes());
    save(dir, "aligned_1", aligned(1).to_bytes());
    save(dir, "aligned_256", aligned(256).to_bytes());
    const Bytes llama = tiny_llama().to_bytes();
    save(dir, "tiny_llama", llama);

    // Near-valid: the tiny llama with one field broken each.
    const File file = File::parse(llama, "tiny_llama");
    Bytes b = llama;
    b.resize(b.size() - 40);
    save(dir, "bad_truncated", b);
    b = llama;
    patch<std::uint32_t>(b, 4, 1);
    save(dir, "bad_version", b);
    b = llama;
    patch<std::uint64_t>(b, offset_field(file, 1), file.tensors()[0].data_offset);
    save(dir, "bad_overlap", b);
    b = llama;
    patch<std::uint64_t>(b, offset_field(file, 2), file.tensors()[2].data_offset + 4);
    save(dir, "bad_misaligned", b);
    b = llama;
    patch<std::uint32_t>(b, file.metadata()[2].file_offset + 8 + 17 + 4, 3);  // general.alignment = 3
    save(dir, "bad_alignment", b);
    b = llama;
    const auto& t = file.tensors()[1];
    patch<std::uint32_t>(b, t.info_file_offset + 8 + t.name.size() + 4 + 8, 12);  // F32 -> Q4_K: 32 is no block
    save(dir, "bad_block_size", b);
    b = nested().to_bytes();
    patch<std::uint64_t>(b, 24 + 8 + 6 + 4 + 4, std::uint64_t{1} << 60);  // matrix's count
    save(dir, "bad_array_count", b);
    // A 64-byte tensor name (ggml's limit is 63): a 63-byte one with its
    // length field grown by one, so the name takes the next byte too.
    Writer long_name;
    add_tensor(long_name, std::string(max_tensor_name_bytes - 1, 'n'), {8}, TensorType::F32, 18);
    b = long_name.to_bytes();
    patch<std::uint64_t>(b, File::parse(b, "long_name").tensors()[0].info_file_offset, max_tensor_name_bytes);
    save(dir, "bad_long_tensor_name", b);
  } catch (const pagoda::Error& e) {
    std::fprintf(stderr, "make_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
