// pagoda-server's command line, as one value. Flags are named like
// llama-server's where one exists (-m, --host, --port, -np, -c, -b, -t,
// --api-key, --chat-template, --timeout); every value is checked here and a
// bad one is a po::error naming the flag and its range, so main prints one
// line and exits with status 2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pagoda/pagoda.hpp"

namespace pagoda::server {

struct ServerOptions {
  std::string model;                    // GGUF file
  std::string alias;                    // the model's id in the API (default: the file name without .gguf)
  std::string host = "127.0.0.1";       // loopback unless told otherwise
  int port = 8080;                      // 0: any free port (printed)
  std::size_t slots = 1;                // -np
  std::size_t prefill_chunk = 64;       // -b: prompt tokens per slot per step
  std::size_t max_queue = 64;           // requests waiting for a slot; more: 503
  int timeout_seconds = 600;            // socket reads and writes, and a request's whole life
  std::size_t max_body_bytes = 1 << 20; // larger bodies: 413
  std::string api_key;                  // empty: none required
  std::optional<std::uint64_t> seed;    // none: a random seed per request that names none
  bool quiet = false;                   // no per-request log lines
  pagoda::LoadOptions load;             // mapping, cpu, chat template, engine (context, threads)
};

// nullopt after --help or --version (printed on stdout). Throws
// boost::program_options::error for bad input.
[[nodiscard]] std::optional<ServerOptions> parse_options(int argc, char** argv);

}  // namespace pagoda::server
