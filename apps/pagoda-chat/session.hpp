// One chat session on a loaded model: the conversation, its transcript and
// the running totals. ask() is one user turn: render the whole conversation,
// make it fit the context (or refuse, as --context-full says), let
// Model::generate reuse the cached prefix and prefill only the new turn,
// stream the answer, print the stats line. Ctrl-C stops the answer (the
// generate callback returns false); the partial answer stays in the
// conversation, as it stays in the cache.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "conversation.hpp"
#include "options.hpp"
#include "terminal.hpp"
#include "transcript.hpp"

namespace pagoda::chat {

enum class TurnResult {
  answered,     // the answer ended (end of turn, -n, or the context filled up)
  interrupted,  // Ctrl-C stopped it
  refused,      // it did not fit the context; nothing was run
};

class ChatSession {
public:
  ChatSession(Model& model, const ChatOptions& options, const Terminal& terminal);

  TurnResult ask(std::string text);

  // /reset: a new conversation with the same system prompt; the cache is emptied.
  void reset();
  // /system: a new conversation with this system prompt (empty: the template's default).
  void set_system(std::string system);
  // /stats
  void show_stats() const;
  // /save; throws pagoda::Error when the file cannot be written.
  void save(const std::filesystem::path& path) const;

  [[nodiscard]] const Conversation& conversation() const { return conversation_; }
  [[nodiscard]] const Transcript& transcript() const { return transcript_; }

private:
  // The rendered conversation, made to fit with room for an answer; nullopt
  // (after saying why) when it cannot.
  std::optional<std::vector<std::int32_t>> fit_turn();
  [[nodiscard]] std::size_t answer_room() const;
  [[nodiscard]] std::size_t max_answer_tokens() const;
  void report_timing(const std::vector<double>& piece_ms) const;

  Model& model_;
  const ChatOptions& options_;
  const Terminal& terminal_;
  Conversation conversation_;
  Transcript transcript_;

  struct Totals {
    std::size_t answers = 0;
    std::size_t prefilled = 0;
    std::size_t generated = 0;
    std::optional<GenerationStats> last;
    std::size_t last_prompt_size = 0;
    double last_first_piece_ms = 0;
  } totals_;
};

}  // namespace pagoda::chat
