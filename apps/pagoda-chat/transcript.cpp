#include "transcript.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include <fmt/core.h>

#include "pagoda/core/error.hpp"

namespace pagoda::chat {

namespace {

std::string now_text() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[64];
  return std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &local) ? text : "";
}

std::string capitalised(const std::string& role) {
  std::string out = role;
  if (!out.empty() && out.front() >= 'a' && out.front() <= 'z') out.front() = static_cast<char>(out.front() - 32);
  return out;
}

bool is_markdown(const std::filesystem::path& path) {
  auto extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return extension == ".md" || extension == ".markdown";
}

}  // namespace

std::size_t Transcript::message_count() const {
  return static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return !e.role.empty(); }));
}

std::string Transcript::plain_text() const {
  std::string out = fmt::format("pagoda-chat transcript: {}, saved {}\n", model_name_, now_text());
  for (const auto& entry : entries_) {
    if (entry.role.empty())
      out += fmt::format("\n({})\n", entry.text);
    else
      out += fmt::format("\n{}: {}\n", entry.role, entry.text);
  }
  return out;
}

std::string Transcript::markdown() const {
  std::string out = fmt::format("# pagoda-chat transcript\n\n*{}, saved {}*\n", model_name_, now_text());
  for (const auto& entry : entries_) {
    if (entry.role.empty())
      out += fmt::format("\n---\n*{}*\n", entry.text);
    else
      out += fmt::format("\n**{}:** {}\n", capitalised(entry.role), entry.text);
  }
  return out;
}

void Transcript::save(const std::filesystem::path& path) const {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) fail("{}: cannot write the transcript: {}", path.string(), std::strerror(errno));
  const std::string text = is_markdown(path) ? markdown() : plain_text();
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.close();
  if (!file) fail("{}: writing the transcript failed: {}", path.string(), std::strerror(errno));
}

}  // namespace pagoda::chat
