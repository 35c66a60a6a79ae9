// Loading the model as the user sees it. pagoda::load is one blocking call
// (parse and check the GGUF, probe the machine, choose the mapping policy,
// place the weights) with no progress callback, so what can be shown
// honestly is: the file and its size, a spinner with the elapsed time while
// load runs (on a terminal), then what load decided (the CPU path and why,
// the placement in one line) and the time it took. Nothing is printed before
// an error but the error, so a bad file gives one line.
#pragma once

#include "options.hpp"
#include "terminal.hpp"

namespace pagoda::chat {

[[nodiscard]] Model load_model(const ChatOptions& options, const Terminal& terminal);

}  // namespace pagoda::chat
