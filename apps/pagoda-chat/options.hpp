// pagoda-chat's command line: what the user asked for, as one value. The flags
// that load and run the model are pagoda-generate's too, defined once in
// apps/common/run_options.hpp; every value is checked, and a bad one is a
// po::error naming the flag and its allowed range, so main prints one line and
// exits with status 2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/run_options.hpp"

namespace pagoda::chat {

// What to do when the conversation no longer fits the context.
enum class ContextFull {
  stop,         // refuse further turns; the user chooses /reset or a larger -c
  drop_oldest,  // drop the oldest user/assistant exchanges (never the system prompt)
};

// The shared run flags (apps/common/run_options.hpp) and the chat's own.
struct ChatOptions : apps::RunOptions {
  ContextFull context_full = ContextFull::stop;
  bool color = true;             // --no-color (and NO_COLOR, and a non-terminal) turn it off
  bool verbose = false;
};

// Parses and checks the command line; nullopt after --help or --version
// (printed on stdout). Throws boost::program_options::error for bad input.
[[nodiscard]] std::optional<ChatOptions> parse_options(int argc, char** argv);

[[nodiscard]] const char* name_of(ContextFull mode);

}  // namespace pagoda::chat
