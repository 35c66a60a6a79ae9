#include "conversation.hpp"

#include <iterator>

namespace pagoda::chat {

void Conversation::set_system(std::string system) {
  system_ = std::move(system);
  clear();
}

void Conversation::clear() {
  messages_.clear();
  if (!system_.empty()) messages_.push_back({"system", system_});
}

bool Conversation::drop_oldest_exchange() {
  if (exchanges() == 0) return false;
  const auto first = messages_.begin() + static_cast<std::ptrdiff_t>(first_turn());
  messages_.erase(first, std::next(first, 2));
  return true;
}

}  // namespace pagoda::chat
