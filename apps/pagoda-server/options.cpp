#include "options.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include "pagoda/core/error.hpp"
#include "pagoda/mapping/anonymous_mapping.hpp"
#include "pagoda/mapping/policy_id.hpp"
#include "pagoda/text/chat_template.hpp"
#include "common/run_options.hpp"

namespace po = boost::program_options;

namespace pagoda::server {

namespace {

struct RawFlags {
  long long slots = 1, prefill_chunk = 64, max_queue = 64, max_body = 1 << 20;
  int ctx_size = 4096, threads = 0;
  std::string seed = "-1";
  std::string decode = "auto";
};

// Written so that NaN is out of range too.
template <class T>
void require_range(T value, T low, T high, const char* flag, std::string_view note = {}) {
  if (!(value >= low && value <= high))
    throw po::error(fmt::format("{} must be between {} and {}{} (got {})", flag, low, high, note, value));
}

std::optional<std::uint64_t> parse_seed(const std::string& text) {
  if (text == "-1" || text == "random") return std::nullopt;
  try {
    std::size_t used = 0;
    if (!text.empty() && text.front() != '-') {
      const auto seed = std::stoull(text, &used);
      if (used == text.size()) return seed;
    }
  } catch (const std::exception&) {
  }
  throw po::error(fmt::format("--seed must be between 0 and 18446744073709551615, or -1 for a random seed per "
                              "request (got {})",
                              text));
}

}  // namespace


std::optional<ServerOptions> parse_options(int argc, char** argv) {
  ServerOptions o;
  RawFlags raw;
  constexpr unsigned line_length = 110, description_length = 60;

  po::options_description model_flags("Model and placement", line_length, description_length);
  model_flags.add_options()
      ("model,m", po::value(&o.model)->default_value(apps::default_model_path()), "GGUF model file ($PAGODA_MODEL_PATH)")
      ("alias,a", po::value(&o.alias), "the model's id in the API (default: the file name without .gguf)")
      ("mapping", po::value(&o.load.mapping)->default_value("auto"),
       "where the weights live: auto, device-copy, host-registered, hmm-direct, hugepage-import")
      ("allow-fallback", po::bool_switch(&o.load.allow_fallback),
       "let a forced --mapping fall back (reported) if it cannot apply")
      ("hugepage-size", po::value(&o.load.hugepage_size)->default_value("auto"),
       "hugepage-import's pages: auto, 1g, 2m or none")
      ("no-fallback", po::bool_switch(&o.load.no_fallback), "a policy's own fallback is an error")
      ("cpu", po::bool_switch(&o.load.cpu), "run on the CPU reference path even if a GPU exists")
      ("decode", po::value(&raw.decode)->default_value(raw.decode),
       "CUDA one-token step of a lone slot: auto, graph or persistent (several slots decode as one batched step)")
      ("threads,t", po::value(&raw.threads)->default_value(raw.threads), "CPU threads of the engine, one pool for every slot (0..1024; 0: all)")
      ("chat-template", po::value(&o.load.chat_template),
       "override the file's template: chatml, llama3, llama3.1 or gemma");

  po::options_description serving_flags("Serving", line_length, description_length);
  serving_flags.add_options()
      ("host", po::value(&o.host)->default_value(o.host), "address to listen on (loopback by default)")
      ("port", po::value(&o.port)->default_value(o.port), "port (0..65535; 0: any free port, printed)")
      ("parallel", po::value(&raw.slots)->default_value(raw.slots),
       "slots: sequences decoded together (1..64; -np N as in llama-server)")
      ("ctx-size,c", po::value(&raw.ctx_size)->default_value(raw.ctx_size),
       "context of each slot in tokens (16..1048576; 0: the model's, at most 4096)")
      ("batch-size,b", po::value(&raw.prefill_chunk)->default_value(raw.prefill_chunk),
       "prompt tokens a slot runs per step (1..4096): smaller keeps other streams moving during a long prompt")
      ("max-queue", po::value(&raw.max_queue)->default_value(raw.max_queue),
       "requests waiting for a free slot (0..4096); beyond: 503 with Retry-After")
      ("timeout", po::value(&o.timeout_seconds)->default_value(o.timeout_seconds),
       "seconds (1..86400): socket reads and writes, and a request's whole life, queue included")
      ("max-body", po::value(&raw.max_body)->default_value(raw.max_body),
       "largest request body in bytes (1024..1073741824); larger: 413")
      ("api-key", po::value(&o.api_key),
       "require 'Authorization: Bearer KEY' (also $PAGODA_API_KEY); /health stays open")
      ("seed", po::value(&raw.seed)->default_value(raw.seed),
       "seed for requests that name none (-1: a random one per request)")
      ("quiet", po::bool_switch(&o.quiet), "no log line per request")
      ("help,h", "show this help")
      ("version", "show the version");

  po::options_description flags(line_length, description_length);
  flags.add(model_flags).add(serving_flags);

  // llama-server spells the slot count -np: accept it as --parallel.
  std::vector<std::string> args(argv + 1, argv + argc);
  for (auto& arg : args)
    if (arg == "-np") arg = "--parallel";
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(flags).run(), vm);
  if (vm.count("help")) {
    std::cout << "pagoda-server: an OpenAI-compatible HTTP server for a GGUF model\n\n"
                 "Usage: pagoda-server [-m MODEL] [--host 127.0.0.1] [--port 8080] [-np N] [flags]\n"
              << flags << "\nEndpoints, examples and clients: docs/server.md.\n";
    return std::nullopt;
  }
  if (vm.count("version")) {
    std::cout << "pagoda-server " << PAGODA_VERSION << '\n';
    return std::nullopt;
  }
  po::notify(vm);

  require_range(o.port, 0, 65535, "--port");
  require_range(raw.slots, 1LL, 64LL, "-np (--parallel)");
  if (raw.ctx_size != 0) require_range(raw.ctx_size, 16, 1 << 20, "--ctx-size", " (or 0: the model's)");
  require_range(raw.prefill_chunk, 1LL, 4096LL, "--batch-size");
  require_range(raw.max_queue, 0LL, 4096LL, "--max-queue");
  require_range(o.timeout_seconds, 1, 86400, "--timeout");
  require_range(raw.max_body, 1024LL, 1LL << 30, "--max-body");
  require_range(raw.threads, 0, 1024, "--threads");
  if (o.host.empty()) throw po::error("--host must not be empty");
  apps::check_load_choices(o.load);
  o.seed = parse_seed(raw.seed);
  if (o.api_key.empty())
    if (const char* key = std::getenv("PAGODA_API_KEY"); key && *key) o.api_key = key;

  o.slots = static_cast<std::size_t>(raw.slots);
  o.prefill_chunk = static_cast<std::size_t>(raw.prefill_chunk);
  o.max_queue = static_cast<std::size_t>(raw.max_queue);
  o.max_body_bytes = static_cast<std::size_t>(raw.max_body);
  o.load.engine.context_size = static_cast<std::uint32_t>(raw.ctx_size);
  o.load.engine.max_batch = static_cast<std::uint32_t>(raw.prefill_chunk);
  o.load.engine.cpu_threads = static_cast<unsigned>(raw.threads);
  o.load.engine.decode = apps::parse_decode_flag(raw.decode);
  if (o.alias.empty()) {
    o.alias = std::filesystem::path(o.model).filename().string();
    if (o.alias.ends_with(".gguf")) o.alias.resize(o.alias.size() - 5);
  }
  return o;
}

}  // namespace pagoda::server
