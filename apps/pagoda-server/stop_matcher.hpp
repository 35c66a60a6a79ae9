// Stop strings over streamed text. Text arrives in pieces (whole UTF-8
// characters, from text::StreamDecoder); a stop string may span pieces. The
// matcher releases only text that can no longer be the start of a stop
// string, holds back the rest, and once a stop string appears releases what
// precedes it and nothing after (the stop string itself is never sent, as
// OpenAI does).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pagoda::server {

class StopMatcher {
public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  struct Result {
    std::string text;      // safe to send now
    bool stopped = false;  // a stop string was found: generation ends, `text` is the last of it
  };

  // Adds a piece; returns what may be sent.
  [[nodiscard]] Result feed(std::string_view piece);
  // At the end of generation: whatever was held back (it matched no stop string).
  [[nodiscard]] std::string flush();

  [[nodiscard]] std::size_t held_bytes() const { return held_.size(); }

private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace pagoda::server
