// pagoda-generate: one-shot greedy generation on the CPU reference forward
// pass — the README's main job until the CUDA engine and pagoda-chat exist.
// It renders the prompt through the model's chat template, streams the answer
// and prints a stats line.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include "pagoda/cpu/reference_model.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/text/chat_template.hpp"
#include "pagoda/text/stream_decoder.hpp"
#include "pagoda/text/tokenizer.hpp"
#include "pagoda/text/vocabulary.hpp"

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string model;
  std::string prompt;
  std::string system;
  std::string chat_template;
  bool raw = false;
  int n_predict = 128;
  int ctx_size = 2048;
  int threads = 0;
};

std::string default_model_path() {
  if (const char* path = std::getenv("PAGODA_MODEL_PATH")) return path;
  const char* home = std::getenv("HOME");
  return fmt::format("{}/.cache/pagoda/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : ".");
}

// Parses the command line; returns nullopt after --help/--version.
std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  po::options_description flags("pagoda-generate: greedy generation on the CPU reference forward pass");
  flags.add_options()
      ("help,h", "show this help")
      ("version", "show the version")
      ("model,m", po::value(&o.model)->default_value(default_model_path()), "GGUF model file")
      ("prompt,p", po::value(&o.prompt)->default_value("What is the capital of France? Answer in one sentence."),
       "the user's message")
      ("system,s", po::value(&o.system), "system prompt (default: the chat template's own)")
      ("chat-template", po::value(&o.chat_template), "override the template: chatml, llama3 or gemma")
      ("raw", po::bool_switch(&o.raw), "feed the prompt as is, without the chat template")
      ("n-predict,n", po::value(&o.n_predict)->default_value(128), "tokens to generate at most (1..65536)")
      ("ctx-size,c", po::value(&o.ctx_size)->default_value(2048), "context size in tokens (16..1048576)")
      ("threads,t", po::value(&o.threads)->default_value(0), "CPU threads (0: all hardware threads)");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(flags).run(), vm);
  if (vm.count("help")) {
    std::cout << flags << '\n';
    return std::nullopt;
  }
  if (vm.count("version")) {
    std::cout << "pagoda-generate " << PAGODA_VERSION << '\n';
    return std::nullopt;
  }
  po::notify(vm);
  if (o.n_predict < 1 || o.n_predict > 65536)
    throw po::error(fmt::format("--n-predict must be between 1 and 65536 (got {})", o.n_predict));
  if (o.ctx_size < 16 || o.ctx_size > (1 << 20))
    throw po::error(fmt::format("--ctx-size must be between 16 and 1048576 (got {})", o.ctx_size));
  if (o.threads < 0 || o.threads > 1024)
    throw po::error(fmt::format("--threads must be between 0 and 1024 (got {})", o.threads));
  return o;
}

// The prompt's token ids: rendered through the chat template (which may spell
// BOS itself) or, with --raw, the text as is with the vocabulary's BOS rule.
std::vector<std::int32_t> prompt_tokens(const Options& o, const pagoda::gguf::File& file,
                                        const pagoda::text::Tokenizer& tokenizer) {
  if (o.raw) return tokenizer.encode(o.prompt, /*add_special=*/true, /*parse_special=*/false);
  const auto chat = o.chat_template.empty() ? pagoda::text::ChatTemplate::from_gguf(file)
                                            : pagoda::text::ChatTemplate::by_name(o.chat_template);
  std::vector<pagoda::text::ChatMessage> messages;
  if (!o.system.empty()) messages.push_back({"system", o.system});
  messages.push_back({"user", o.prompt});
  return tokenizer.encode(chat.render(messages, /*add_generation_prompt=*/true),
                          /*add_special=*/!chat.renders_bos(), /*parse_special=*/true);
}

double per_second(std::size_t count, Clock::duration elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

int run(const Options& o) {
  const auto model_file = pagoda::gguf::MappedFile::open(o.model);
  const auto& file = model_file->gguf();
  const pagoda::text::Tokenizer tokenizer(pagoda::text::vocabulary_from_gguf(file));
  pagoda::cpu::ReferenceModel model(file, static_cast<std::uint32_t>(o.ctx_size), static_cast<unsigned>(o.threads));
  std::fprintf(stderr, "pagoda: %s (%s), %u layers, on the CPU reference path (%u threads, no GPU used)\n",
               model.config().name.c_str(), std::string(model.config().architecture.name).c_str(),
               model.config().n_layers, model.threads());

  const auto prompt = prompt_tokens(o, file, tokenizer);
  if (prompt.size() >= static_cast<std::size_t>(o.ctx_size))
    throw pagoda::Error(fmt::format("the prompt is {} tokens, which does not fit the context of {} (--ctx-size)",
                                    prompt.size(), o.ctx_size));

  const auto prefill_start = Clock::now();
  auto logits = model.forward(prompt);
  const auto prefill_time = Clock::now() - prefill_start;

  pagoda::text::StreamDecoder stream(tokenizer);
  std::size_t generated = 0;
  const auto decode_start = Clock::now();
  bool context_full = false;
  while (generated < static_cast<std::size_t>(o.n_predict)) {
    const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
    const auto token = static_cast<std::int32_t>(best);
    if (tokenizer.is_end_of_generation(token)) break;
    ++generated;
    std::cout << stream.feed(token) << std::flush;
    if (model.position() >= model.context_size()) {
      context_full = true;
      break;
    }
    logits = model.forward(std::span(&token, 1));
  }
  std::cout << stream.flush() << std::endl;  // before the stats line on stderr
  const auto decode_time = Clock::now() - decode_start;
  if (context_full) std::fprintf(stderr, "pagoda: stopped: the context of %d tokens is full\n", o.ctx_size);
  std::fprintf(stderr, "pagoda: prompt %zu tokens at %.1f t/s; generated %zu tokens at %.1f t/s (CPU reference)\n",
               prompt.size(), per_second(prompt.size(), prefill_time), generated,
               per_second(generated, decode_time));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto options = parse_options(argc, argv);
    return options ? run(*options) : 0;
  } catch (const po::error& e) {
    std::fprintf(stderr, "pagoda-generate: %s (see --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagoda-generate: %s\n", e.what());
    return 1;
  }
}
