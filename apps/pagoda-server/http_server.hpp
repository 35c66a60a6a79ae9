// The HTTP glue: cpp-httplib's server, the routes, and nothing of the
// protocol itself (request.hpp parses, response.hpp builds, the scheduler
// runs). It listens before the model is loaded, so /health can say
// "loading"; serve() switches it to answering.
//
//   POST /v1/chat/completions, /v1/completions   generation, whole or streamed (SSE)
//   GET  /v1/models, /health, /metrics
//
// Every error is OpenAI's JSON error object with its status, including the
// ones httplib answers itself (404, 413, a malformed request line).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "metrics.hpp"
#include "options.hpp"
#include "request.hpp"
#include "scheduler.hpp"

namespace httplib {
class Server;
struct Response;
}  // namespace httplib

namespace pagoda::server {

// What generation requests need once the model is loaded.
struct Serving {
  Scheduler* scheduler = nullptr;
  const text::Tokenizer* tokenizer = nullptr;
  const text::ChatTemplate* chat_template = nullptr;
  std::uint32_t context_size = 0;
};

class HttpServer {
public:
  explicit HttpServer(const ServerOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds options.host:options.port (any free port for 0); returns the port.
  // Throws pagoda::Error naming the address when it cannot.
  int bind();
  // Answers requests until stop(); call from its own thread.
  void listen();
  void stop();

  // The model is loaded: generation requests are served from now on. The
  // pointers in `serving` must stay valid until stop() has returned.
  void serve(const Serving& serving);

private:
  void routes();
  void generate(Endpoint endpoint, const std::string& body, httplib::Response& response);
  [[nodiscard]] std::uint64_t next_seed();

  const ServerOptions& options_;
  std::unique_ptr<httplib::Server> http_;
  HttpCounters counters_;
  Serving serving_;
  std::atomic<bool> ready_{false};
  std::atomic<std::uint64_t> serial_;
  const std::int64_t started_;
};

}  // namespace pagoda::server
