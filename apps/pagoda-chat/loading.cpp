#include "loading.hpp"

#include <chrono>
#include <filesystem>

#include <fmt/core.h>

#include "pagoda/core/error.hpp"
#include "pagoda/core/escape.hpp"

namespace pagoda::chat {

Model load_model(const ChatOptions& options, const Terminal& terminal) {
  std::error_code error;
  const auto bytes = std::filesystem::file_size(options.model, error);
  const auto file = fmt::format("{}{}", options.model, error ? "" : fmt::format(" ({})", human_bytes(bytes)));
  const auto where = options.load.cpu ? std::string("on the CPU reference path (--cpu)")
                                      : fmt::format("with mapping policy {}", options.load.mapping);
  const auto stage = fmt::format("loading {}: checking the file, placing the weights {}", file, where);
  if (options.verbose) terminal.status(stage);

  const auto start = std::chrono::steady_clock::now();
  auto model = [&] {
    Spinner spinner(terminal, stage);
    return pagoda::load(options.model, options.load);
  }();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  try {
    (void)model.chat_template();
  } catch (const Error& e) {
    throw Error(fmt::format("{} (name one with --chat-template chatml|llama3|llama3.1|gemma)", e.what()));
  }
  terminal.status(fmt::format("read {} and placed the weights in {:.2f} s", file, seconds));
  for (const auto& line : model.load_report())
    if (options.verbose || !line.starts_with("mapping ")) terminal.status(line);
  const auto& config = model.config();
  if (config.context_length > 0 && model.engine().context_size() > config.context_length)
    terminal.status(fmt::format("note: the context of {} tokens is longer than the {} the model was trained on; "
                                "answers may degrade beyond that",
                                model.engine().context_size(), config.context_length));
  terminal.status(fmt::format("ready: {} ({}, {} layers), context {} tokens, chat template {}{}", escaped(config.name),
                              config.architecture.name, config.n_layers, model.engine().context_size(),
                              model.chat_template().name(), model.engine().on_gpu() ? ", on CUDA" : ""));
  return model;
}

}  // namespace pagoda::chat
