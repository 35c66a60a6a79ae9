// pagoda-chat's command line: what the user asked for, as one value. Flags are
// named like llama.cpp's where they mean the same (-m, -c, -n, --temp, ...);
// every value is checked here, and a bad one is a po::error naming the flag
// and its allowed range, so main prints one line and exits with status 2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pagoda/pagoda.hpp"

namespace pagoda::chat {

// What to do when the conversation no longer fits the context.
enum class ContextFull {
  stop,         // refuse further turns; the user chooses /reset or a larger -c
  drop_oldest,  // drop the oldest user/assistant exchanges (never the system prompt)
};

struct ChatOptions {
  std::string model;
  std::string system;            // empty: the chat template's own default
  std::optional<std::string> prompt;  // -p: one-shot, print the answer and exit
  int n_predict = 512;           // per answer; -1: until the context is full
  ContextFull context_full = ContextFull::stop;
  bool color = true;             // --no-color (and NO_COLOR, and a non-terminal) turn it off
  bool verbose = false;
  pagoda::LoadOptions load;      // mapping, cpu, chat template, engine (context, sampling, threads)
};

// The default model: $PAGODA_MODEL_PATH, else the one the README's set-up fetched.
[[nodiscard]] std::string default_model_path();

// Parses and checks the command line; nullopt after --help or --version
// (printed on stdout). Throws boost::program_options::error for bad input.
[[nodiscard]] std::optional<ChatOptions> parse_options(int argc, char** argv);

[[nodiscard]] const char* name_of(ContextFull mode);

}  // namespace pagoda::chat
