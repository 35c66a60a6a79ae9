// pagoda-synth: writes a GGUF model with random quantized weights at a real
// model's shape (or a custom one), for benchmarks and tests — any GGUF engine
// loads it. Deterministic for a seed. Tensors whose rows are not whole blocks
// of the chosen format fall back to another format, and each is listed.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include "common/help.hpp"
#include "pagoda/core/error.hpp"
#include "pagoda/model/synthetic.hpp"

namespace po = boost::program_options;
namespace model = pagoda::model;
namespace apps = pagoda::apps;

namespace {

// A bad command line: one line naming the flag, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  model::SyntheticSpec spec;
  std::filesystem::path output;
  bool list = false;
  bool dry_run = false;
};

std::string size_text(std::uint64_t bytes) {
  constexpr double mib = 1024.0 * 1024.0;
  if (bytes >= 1024 * 1024 * 1024ull) return fmt::format("{:.2f} GiB", static_cast<double>(bytes) / (mib * 1024.0));
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / mib);
}

// Runs `parse` on a flag's value, turning a library error into a usage error naming the flag.
template <class Fn>
auto flag_value(std::string_view flag, Fn&& parse) {
  try {
    return parse();
  } catch (const pagoda::Error& e) {
    const std::string message = e.what();
    if (message.starts_with(flag)) throw UsageError(message);
    throw UsageError(fmt::format("{}: {}", flag, message));
  }
}

// Parses the command line; nullopt after --help.
std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  std::string shape, custom, quant = "Q4_0", output_quant, output;
  int threads = 0;
  auto synth_flags = apps::flag_group("Flags");
  synth_flags.add_options()
      ("help,h", "show this help")
      ("list", po::bool_switch(&o.list), "list the named shapes and the quantizations")
      ("shape", po::value(&shape), "a named shape (see --list)")
      ("custom", po::value(&custom),
       "custom dimensions, comma-separated: layers=N,d=N,heads=N,kv=N,ffn=N,vocab=N, optionally followed by "
       "head_dim=N, ctx=N, rope=F, eps=F, tied=0|1, arch=llama|qwen2|gemma3, tokenizer=llama3|smollm|qwen2|gemma")
      ("quant,q", po::value(&quant)->default_value(quant), "F32, F16, BF16, Q4_0 ... Q6_K, or the Q4_K_M mix")
      ("output-quant", po::value(&output_quant),
       "with a single-format --quant: output.weight (or a tied token_embd) in this format, e.g. Q6_K as llama.cpp does")
      ("seed", po::value(&o.spec.seed)->default_value(1), "random seed; the same seed gives the same file")
      ("threads,t", po::value(&threads)->default_value(0), "generator threads (0: all hardware threads)")
      ("output,o", po::value(&output), "the GGUF file to write")
      ("dry-run", po::bool_switch(&o.dry_run), "print the size, tensors and fallbacks without writing");
  auto flags = apps::flag_group("");
  flags.add(synth_flags);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(flags).run(), vm);
  if (vm.count("help")) {
    apps::print_help(std::cout,
                     {.app = "pagoda-synth",
                      .summary = "a GGUF with random quantized weights at a real model's shape",
                      .usages = {"(--shape NAME | --custom SPEC) [--quant Q] [--seed N] -o FILE",
                                 "--list"},
                      .notes = "Example: pagoda-synth --custom layers=2,d=256,heads=4,kv=2,ffn=512,vocab=512 "
                               "-q Q4_K_M -o tiny.gguf"},
                     flags);
    return std::nullopt;
  }
  po::notify(vm);
  if (o.list) return o;

  if (shape.empty() == custom.empty()) throw UsageError("give exactly one of --shape NAME and --custom SPEC");
  o.spec.shape = shape.empty() ? flag_value("--custom", [&] { return model::parse_custom_shape(custom); })
                               : flag_value("--shape", [&] { return model::find_shape(shape); });
  o.spec.recipe = flag_value("--quant", [&] { return model::parse_recipe(quant); });
  if (!output_quant.empty()) {
    if (o.spec.recipe.kind != model::QuantRecipe::Kind::uniform)
      throw UsageError("--output-quant: only with a single-format --quant (Q4_K_M sets its own)");
    o.spec.recipe.output_format = flag_value("--output-quant", [&] { return model::parse_format(output_quant); });
  }
  if (threads < 0 || threads > 1024) throw UsageError(fmt::format("--threads: must be 0..1024, not {}", threads));
  o.spec.threads = static_cast<unsigned>(threads);
  if (output.empty() && !o.dry_run) throw UsageError("-o/--output: the file to write is required");
  o.output = output;
  return o;
}

void print_list() {
  fmt::print("shapes (--shape):\n");
  fmt::print("  {:<14} {:<7} {:>6} {:>6} {:>9} {:>8} {:>6} {:>8} {:>7}  {}\n", "name", "arch", "layers", "d",
             "heads/kv", "head_dim", "ffn", "vocab", "ctx", "output");
  for (const auto& s : model::named_shapes()) {
    fmt::print("  {:<14} {:<7} {:>6} {:>6} {:>9} {:>8} {:>6} {:>8} {:>7}  {}\n", s.name, s.architecture, s.n_layers,
               s.d_model, fmt::format("{}/{}", s.n_heads, s.n_kv_heads), s.effective_head_dim(), s.d_ffn, s.vocab,
               s.context, s.tied_output ? "tied" : "separate");
  }
  fmt::print("quantizations (--quant):");
  for (const auto& name : model::recipe_names()) fmt::print(" {}", name);
  fmt::print("\n");
}

int run(const Options& o) {
  if (o.list) {
    print_list();
    return 0;
  }
  const auto& s = o.spec.shape;
  fmt::print("pagoda-synth: {} ({}, {} layers, d {}, {}/{} heads of {}, ffn {}, vocab {}), {}, seed {}\n", s.name,
             s.architecture, s.n_layers, s.d_model, s.n_heads, s.n_kv_heads, s.effective_head_dim(), s.d_ffn, s.vocab,
             o.spec.recipe.name(), o.spec.seed);
  std::fflush(stdout);

  model::SyntheticReport report;
  if (o.dry_run) {
    (void)model::synthetic_writer(o.spec, &report);
    fmt::print("would write {} ({} bytes), {} tensors, {:.3f} B parameters\n", size_text(report.file_bytes),
               report.file_bytes, report.tensor_count, static_cast<double>(report.parameter_count) / 1e9);
  } else {
    auto spec = o.spec;
    if (isatty(STDERR_FILENO)) {
      int last_percent = -1;
      spec.progress = [last_percent](std::uint64_t done, std::uint64_t total) mutable {
        const int percent = total == 0 ? 100 : static_cast<int>(done * 100 / total);
        if (percent == last_percent) return;
        last_percent = percent;
        std::fprintf(stderr, "\r  %3d%%", percent);
        if (done == total) std::fprintf(stderr, "\r      \r");
      };
    }
    report = model::write_synthetic(spec, o.output);
    const double rate = report.seconds > 0 ? static_cast<double>(report.file_bytes) / report.seconds : 0.0;
    fmt::print("wrote {}: {} ({} bytes), {} tensors, {:.3f} B parameters, in {:.1f} s ({}/s)\n", o.output.string(),
               size_text(report.file_bytes), report.file_bytes, report.tensor_count,
               static_cast<double>(report.parameter_count) / 1e9, report.seconds,
               size_text(static_cast<std::uint64_t>(rate)));
  }
  fmt::print("tensor data: {} ({} bytes; the size llama-bench reports)\n", size_text(report.tensor_bytes),
             report.tensor_bytes);
  if (report.fallbacks.empty()) {
    fmt::print("fallbacks: none (every tensor is in the format the recipe chose)\n");
  } else {
    fmt::print("fallbacks: {} tensor{} stored in another format than the recipe chose:\n", report.fallbacks.size(),
               report.fallbacks.size() == 1 ? " is" : "s are");
    for (const auto& f : report.fallbacks) fmt::print("  {}\n", model::describe(f));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto options = parse_options(argc, argv);
    return options ? run(*options) : 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "pagoda-synth: %s\n", e.what());
    return 2;
  } catch (const po::error& e) {
    std::fprintf(stderr, "pagoda-synth: %s (see --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagoda-synth: %s\n", e.what());
    return 1;
  }
}
