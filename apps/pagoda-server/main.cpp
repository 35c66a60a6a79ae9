// pagoda-server: an OpenAI-compatible HTTP server for a GGUF model, with N
// slots decoded together by one scheduler thread. See docs/server.md.
//
//   options.*       the command line            http_server.*  routes, SSE, errors (cpp-httplib)
//   request.*       bodies parsed and checked   response.*     bodies built, SSE framing
//   scheduler.*     queue, slots, steps         job.hpp        one request between two threads
//   step_backend.hpp  the engines' seam         sequence_slots.*  one pagoda::Model, a sequence per slot
//   stop_matcher.*  stop strings over a stream  metrics.*      /metrics
#include <csignal>
#include <cstdio>
#include <thread>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "http_server.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "options.hpp"
#include "scheduler.hpp"
#include "sequence_slots.hpp"

namespace {

using namespace pagoda::server;

void status(const std::string& line) { std::fprintf(stderr, "pagoda-server: %s\n", line.c_str()); }

// The HTTP server's listening thread; stops it and joins whatever happens.
class Listening {
public:
  explicit Listening(HttpServer& http) : http_(http), thread_([&http] {
    try {
      http.listen();
    } catch (const std::exception& e) {
      status(e.what());
    }
  }) {}
  ~Listening() {
    http_.stop();
    thread_.join();
  }
  Listening(const Listening&) = delete;
  Listening& operator=(const Listening&) = delete;

private:
  HttpServer& http_;
  std::thread thread_;
};

// One model for every slot: the weights once, a KV cache and sampler per slot.
pagoda::Model load_slots(const ServerOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto load = options.load;
  load.engine.sequences = static_cast<std::uint32_t>(options.slots);
  auto model = pagoda::load(options.model, load);
  try {
    (void)model.chat_template();
  } catch (const pagoda::Error& e) {
    throw pagoda::Error(fmt::format("{} (name one with --chat-template chatml|llama3|llama3.1|gemma)", e.what()));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& line : model.load_report())
    if (!line.starts_with("mapping ")) status(line);
  status(fmt::format("loaded {} in {:.2f} s: {} slot{} of {} tokens each, chat template {}{}", options.model, seconds,
                     options.slots, options.slots == 1 ? "" : "s", model.engine().context_size(),
                     model.chat_template().name(), model.engine().on_gpu() ? ", on CUDA" : ""));
  return model;
}

int serve(const ServerOptions& options) {
  // SIGINT and SIGTERM end the server; only this thread takes them (every thread started below inherits the mask).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // A file that cannot load is one line before anything listens (load checks it again).
  (void)pagoda::gguf::MappedFile::open(options.model);
  HttpServer http(options);
  const int port = http.bind();
  const Listening listening(http);
  status(fmt::format("listening on http://{}:{} (loading the model: /health says \"loading\")", options.host, port));

  SequenceSlots slots(load_slots(options));
  const auto& model = slots.model();
  Scheduler scheduler(slots, model.tokenizer(), {.max_queue = options.max_queue, .prefill_chunk = options.prefill_chunk});
  std::jthread engine_thread([&scheduler](std::stop_token stop) { scheduler.run(stop); });
  http.serve({.scheduler = &scheduler,
              .tokenizer = &model.tokenizer(),
              .chat_template = &model.chat_template(),
              .context_size = slots.context_size()});
  status(fmt::format("ready: model '{}' at http://{}:{}/v1 ({})", options.alias, options.host, port,
                     options.api_key.empty() ? "no API key" : "API key required"));

  int signal = 0;
  sigwait(&signals, &signal);
  status(fmt::format("{}: stopping", signal == SIGINT ? "SIGINT" : "SIGTERM"));
  engine_thread.request_stop();
  engine_thread.join();
  scheduler.shutdown();  // waiting requests get their answer (an error) before the HTTP server stops
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto options = parse_options(argc, argv);
    if (!options) return 0;
    return serve(*options);
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "pagoda-server: %s (see --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagoda-server: %s\n", e.what());
    return 1;
  }
}
