// The conversation the model sees: an optional system prompt, then user and
// assistant messages alternating. Each turn the whole of it is rendered
// through the chat template; Model::generate reuses the cached prefix, so
// only the new turn is prefilled. To make room it can drop its oldest
// exchange (a user message and its answer), never the system prompt.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "pagoda/text/chat_template.hpp"

namespace pagoda::chat {

class Conversation {
public:
  explicit Conversation(std::string system = {}) { set_system(std::move(system)); }

  // A new system prompt (empty: the template's default) starts a new conversation.
  void set_system(std::string system);
  [[nodiscard]] const std::string& system() const { return system_; }
  // Forgets the exchanges, keeps the system prompt.
  void clear();

  void add_user(std::string text) { messages_.push_back({"user", std::move(text)}); }
  void add_assistant(std::string text) { messages_.push_back({"assistant", std::move(text)}); }
  // Takes back the last message (a turn that could not run).
  void remove_last() { if (messages_.size() > first_turn()) messages_.pop_back(); }

  // What the template renders: the system message (if any) and the turns.
  [[nodiscard]] std::span<const text::ChatMessage> messages() const { return messages_; }
  // Complete user + assistant exchanges.
  [[nodiscard]] std::size_t exchanges() const { return (messages_.size() - first_turn()) / 2; }
  // Drops the oldest complete exchange; false when there is none.
  bool drop_oldest_exchange();

private:
  [[nodiscard]] std::size_t first_turn() const { return system_.empty() ? 0 : 1; }

  std::string system_;
  std::vector<text::ChatMessage> messages_;
};

}  // namespace pagoda::chat
