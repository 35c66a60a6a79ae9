#include "http_server.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include <fmt/format.h>
#include <httplib.h>

#include "api_error.hpp"
#include "pagoda/core/error.hpp"
#include "response.hpp"

namespace pagoda::server {

namespace {

using namespace std::chrono_literals;

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(json_text(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& error) {
  send_json(res, error.status(), error.body());
  if (error.status() == 503) res.set_header("Retry-After", "1");
  if (error.status() == 401) res.set_header("WWW-Authenticate", "Bearer");
}

// The error object for a status httplib set itself (no handler ran, or none matched).
ApiError error_for_status(int status, const std::string& path) {
  switch (status) {
    case 404: return {404, fmt::format("no such endpoint: {}", path), "invalid_request_error", std::nullopt, "not_found"};
    case 405: return {405, "method not allowed", "invalid_request_error", std::nullopt, "method_not_allowed"};
    case 413: return {413, "the request body is larger than the server's --max-body", "invalid_request_error",
                      std::nullopt, "request_too_large"};
    case 408: return {408, "the request was not received in time", "invalid_request_error", std::nullopt, "timeout"};
    default:
      if (status >= 500) return {status, "internal server error", "server_error"};
      return {status, "bad request", "invalid_request_error"};
  }
}

// A whole generation's outcome as an error, when it is one.
std::optional<ApiError> error_of(const Outcome& outcome) {
  switch (outcome.reason) {
    case FinishReason::stop:
    case FinishReason::length: return std::nullopt;
    case FinishReason::timeout: return ApiError(504, outcome.error, "timeout_error", std::nullopt, "request_timeout");
    case FinishReason::cancelled: return ApiError(499, "the request was cancelled", "cancelled");
    case FinishReason::error: return ApiError(500, outcome.error, "server_error");
  }
  return ApiError(500, "unknown outcome", "server_error");
}

// Constant time in the key's length: the comparison does not tell how much of a guess was right.
bool same_key(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

// A streamed answer, written by httplib's content provider as text arrives.
struct Stream {
  std::shared_ptr<Job> job;
  Endpoint endpoint;
  ResponseHead head;
  bool include_usage;
  bool started = false;
  bool ended = false;
};

bool write(httplib::DataSink& sink, const std::string& text) { return sink.write(text.data(), text.size()); }

// One call of the content provider: waits a little for text, writes it.
// False ends the response (the client left, or the write failed).
bool pump(Stream& s, httplib::DataSink& sink) {
  if (!s.started) {
    s.started = true;
    if (s.endpoint == Endpoint::chat && !write(sink, sse_event(stream_chunk(s.endpoint, s.head, "", std::nullopt, true))))
      return false;
  }
  auto update = s.job->wait(2s);
  if (!update.text.empty()) {
    if (!write(sink, sse_event(stream_chunk(s.endpoint, s.head, update.text)))) return false;
  } else if (!update.end) {
    // Nothing for 2 s (queued, or a long prompt): an SSE comment, which
    // clients skip, tells whether the client is still there.
    return write(sink, ": waiting\n\n");
  }
  if (!update.end) return true;
  s.ended = true;
  if (const auto error = error_of(*update.end)) {
    // OpenAI's clients raise an APIError for an event holding "error".
    write(sink, sse_event(error->body()));
  } else {
    if (!write(sink, sse_event(stream_chunk(s.endpoint, s.head, "", update.end->reason)))) return false;
    if (s.include_usage && !write(sink, sse_event(usage_chunk(s.endpoint, s.head, update.end->usage)))) return false;
    if (!write(sink, sse_done())) return false;
  }
  sink.done();
  return true;
}

}  // namespace

HttpServer::HttpServer(const ServerOptions& options)
    : options_(options),
      http_(std::make_unique<httplib::Server>()),
      serial_(std::random_device{}()),
      started_(static_cast<std::int64_t>(std::time(nullptr))) {
  // Enough handler threads for every slot and every queued request, plus a
  // few for /health and /metrics while all are busy.
  const std::size_t threads = std::min<std::size_t>(options.slots + options.max_queue + 8, 512);
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(options.max_body_bytes);
  http_->set_read_timeout(options.timeout_seconds);
  http_->set_write_timeout(options.timeout_seconds);
  routes();
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
  const int port = options_.port == 0 ? http_->bind_to_any_port(options_.host)
                                      : (http_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port <= 0) fail("cannot listen on {}:{} (in use, or not an address of this machine)", options_.host, options_.port);
  return port;
}

void HttpServer::listen() {
  if (!http_->listen_after_bind()) fail("the HTTP server stopped listening");
}

void HttpServer::stop() { http_->stop(); }

void HttpServer::serve(const Serving& serving) {
  serving_ = serving;
  ready_.store(true, std::memory_order_release);
}

std::uint64_t HttpServer::next_seed() {
  if (options_.seed) return *options_.seed;
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device();
}

void HttpServer::generate(Endpoint endpoint, const std::string& body, httplib::Response& res) {
  const auto request = parse_request(endpoint, body, options_.alias);
  auto generation = to_generation(request, *serving_.tokenizer, *serving_.chat_template, serving_.context_size,
                                  next_seed());
  auto job = serving_.scheduler->submit(std::move(generation), Clock::now() + std::chrono::seconds(options_.timeout_seconds));
  if (!job)
    throw ApiError(503, fmt::format("the server is busy: {} requests are already waiting for a slot; retry later",
                                    options_.max_queue),
                   "server_busy", std::nullopt, "queue_full");
  const ResponseHead head{response_id(endpoint, serial_++), static_cast<std::int64_t>(std::time(nullptr)),
                          options_.alias};

  if (!request.stream) {
    std::string text;
    for (;;) {
      auto update = job->wait(1s);
      text += update.text;
      if (!update.end) continue;
      if (const auto error = error_of(*update.end)) throw *error;
      send_json(res, 200, completion_body(endpoint, head, text, update.end->reason, update.end->usage));
      return;
    }
  }
  auto stream = std::make_shared<Stream>(Stream{job, endpoint, head, request.include_usage});
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [stream](std::size_t, httplib::DataSink& sink) {
        if (pump(*stream, sink)) return true;
        stream->job->cancel();  // the client left: the slot is freed at the next step
        return false;
      },
      [stream](bool) {
        if (!stream->ended) stream->job->cancel();
      });
}

void HttpServer::routes() {
  auto& http = *http_;
  // Errors httplib answers itself (no route, body too large, bad request line) get OpenAI's shape too.
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty()) {
      const int status = res.status;
      send_error(res, error_for_status(status, req.path));
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    if (!options_.api_key.empty()) {
      const auto header = req.get_header_value("Authorization");
      const std::string_view bearer = "Bearer ";
      const bool good = header.starts_with(bearer) && same_key(std::string_view(header).substr(bearer.size()), options_.api_key);
      if (!good) {
        send_error(res, ApiError(401, header.empty() ? "an API key is required: 'Authorization: Bearer KEY'"
                                                     : "the API key is not valid",
                                 "invalid_request_error", std::nullopt, "invalid_api_key"));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (!ready_.load(std::memory_order_acquire)) {
      send_error(res, ApiError(503, "the model is loading", "unavailable_error", std::nullopt, "model_loading"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    // Known paths by name; anything else as "other", so a scanner cannot grow the table.
    const bool known = req.path == "/health" || req.path == "/metrics" || req.path == "/v1/models" ||
                       req.path == "/v1/chat/completions" || req.path == "/v1/completions";
    counters_.count(known ? req.path : "other", res.status);
    if (!options_.quiet) std::fprintf(stderr, "pagoda-server: %s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });

  const auto guarded = [](auto handler) {
    return [handler](const httplib::Request& req, httplib::Response& res) {
      try {
        handler(req, res);
      } catch (const ApiError& e) {
        send_error(res, e);
      } catch (const std::exception& e) {
        send_error(res, ApiError(500, e.what(), "server_error"));
      }
    };
  };
  http.Get("/health", guarded([this](const httplib::Request&, httplib::Response& res) {
    if (ready_.load(std::memory_order_acquire))
      send_json(res, 200, {{"status", "ok"}});
    else
      send_json(res, 503, {{"status", "loading"}});
  }));
  http.Get("/v1/models", guarded([this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, models_body(options_.alias, started_));
  }));
  http.Get("/metrics", guarded([this](const httplib::Request&, httplib::Response& res) {
    res.set_content(render_metrics(serving_.scheduler->metrics(), counters_.snapshot()), "text/plain; version=0.0.4");
  }));
  http.Post("/v1/chat/completions", guarded([this](const httplib::Request& req, httplib::Response& res) {
    generate(Endpoint::chat, req.body, res);
  }));
  http.Post("/v1/completions", guarded([this](const httplib::Request& req, httplib::Response& res) {
    generate(Endpoint::completion, req.body, res);
  }));
}

}  // namespace pagoda::server
