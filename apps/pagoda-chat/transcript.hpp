// The record /save writes: every message of the session in order, with notes
// for what happened to the conversation (reset, new system prompt, oldest
// exchanges dropped from the context, an answer stopped). Dropping turns from
// the model's context does not drop them from the transcript.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace pagoda::chat {

class Transcript {
public:
  struct Entry {
    std::string role;  // "system", "user", "assistant"; empty for a note
    std::string text;
  };

  explicit Transcript(std::string model_name) : model_name_(std::move(model_name)) {}

  void message(std::string role, std::string text) { entries_.push_back({std::move(role), std::move(text)}); }
  void note(std::string text) { entries_.push_back({{}, std::move(text)}); }
  [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }
  [[nodiscard]] std::size_t message_count() const;

  // Markdown for *.md / *.markdown, plain text otherwise. Throws pagoda::Error
  // naming the file and the OS's reason when it cannot be written.
  void save(const std::filesystem::path& path) const;

  [[nodiscard]] std::string plain_text() const;
  [[nodiscard]] std::string markdown() const;

private:
  std::string model_name_;
  std::vector<Entry> entries_;
};

}  // namespace pagoda::chat
