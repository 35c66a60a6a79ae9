#include "session.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/core.h>

#include "interrupt.hpp"

namespace pagoda::chat {

namespace {

using Clock = std::chrono::steady_clock;

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string sampling_text(const runtime::SamplingParams& s) {
  if (s.greedy()) return "greedy (--temp 0)";
  return fmt::format("temp {} top-k {} top-p {} min-p {} repeat-penalty {} seed {}", s.temperature, s.top_k, s.top_p,
                     s.min_p, s.repeat_penalty, s.seed);
}

}  // namespace

ChatSession::ChatSession(Model& model, const ChatOptions& options, const Terminal& terminal)
    : model_(model),
      options_(options),
      terminal_(terminal),
      conversation_(options.system),
      transcript_(model.config().name) {
  if (!options.system.empty()) transcript_.message("system", options.system);
}

std::size_t ChatSession::answer_room() const {
  const std::size_t quarter = std::max<std::size_t>(1, model_.engine().context_size() / 4);
  if (options_.n_predict < 0) return quarter;
  return std::min<std::size_t>(quarter, static_cast<std::size_t>(options_.n_predict));
}

std::size_t ChatSession::max_answer_tokens() const {
  return options_.n_predict < 0 ? model_.engine().context_size() : static_cast<std::size_t>(options_.n_predict);
}

std::optional<std::vector<std::int32_t>> ChatSession::fit_turn() {
  const std::size_t context = model_.engine().context_size();
  const std::size_t room = answer_room();
  auto tokens = model_.chat_prompt(conversation_.messages());
  if (tokens.size() + room <= context) return tokens;

  const auto too_long = [&](std::size_t size) {
    terminal_.warning(fmt::format("this message does not fit: with the system prompt it is {} tokens, and the "
                                  "context of {} must also hold {} for the answer. Shorten it, or restart with a "
                                  "larger -c (--ctx-size).",
                                  size, context, room));
  };
  if (options_.context_full == ContextFull::stop) {
    if (conversation_.exchanges() == 0) {
      too_long(tokens.size());
    } else {
      terminal_.warning(fmt::format("the context is full: the conversation with this message is {} tokens, and the "
                                    "context of {} must also hold {} for the answer. Type /reset to start a new "
                                    "conversation, or restart with a larger -c (--ctx-size) or with "
                                    "--context-full drop-oldest.",
                                    tokens.size(), context, room));
    }
    return std::nullopt;
  }

  // drop-oldest: try on a copy, so that a message too long on its own loses nothing.
  Conversation trimmed = conversation_;
  std::size_t dropped = 0;
  while (tokens.size() + room > context && trimmed.drop_oldest_exchange()) {
    ++dropped;
    tokens = model_.chat_prompt(trimmed.messages());
  }
  if (tokens.size() + room > context) {
    too_long(tokens.size());
    return std::nullopt;
  }
  const auto before = model_.chat_prompt(conversation_.messages()).size();
  conversation_ = std::move(trimmed);
  const auto what = fmt::format("the context is full: dropped the oldest {} (the conversation is now {} tokens, "
                                "was {}; the system prompt stays)",
                                plural(dropped, "exchange"), tokens.size(), before);
  terminal_.notice(what);
  transcript_.note(what);
  return tokens;
}

TurnResult ChatSession::ask(std::string text) {
  conversation_.add_user(text);
  const auto prompt = fit_turn();
  if (!prompt) {
    conversation_.remove_last();
    return TurnResult::refused;
  }
  transcript_.message("user", text);
  if (options_.verbose) {
    terminal_.dim(fmt::format("rendered prompt ({} tokens; the cache holds {}):", prompt->size(),
                              model_.cached_tokens().size()));
    terminal_.dim(model_.chat_template().render(conversation_.messages(), /*add_generation_prompt=*/true));
  }

  std::string answer;
  bool interrupted = false;
  std::vector<double> piece_ms;
  auto last = Clock::now();
  const auto on_text = [&](std::string_view piece) {
    if (interrupted || InterruptHandler::take()) {
      interrupted = true;  // this piece is not shown: its token is not in the cache either
      return false;
    }
    const auto now = Clock::now();
    piece_ms.push_back(std::chrono::duration<double, std::milli>(now - last).count());
    last = now;
    answer += piece;
    terminal_.answer_text(piece);
    return true;
  };
  InterruptHandler::clear();
  GenerationStats stats;
  try {
    stats = model_.generate(*prompt, max_answer_tokens(), on_text);
  } catch (const std::exception& e) {
    if (!answer.empty()) terminal_.answer_end();
    conversation_.remove_last();  // user and assistant keep alternating
    transcript_.note(fmt::format("this turn failed: {}", e.what()));
    throw;
  }
  terminal_.answer_end();

  conversation_.add_assistant(answer);
  transcript_.message("assistant", answer);
  if (interrupted) {
    terminal_.notice("(answer stopped: Ctrl-C)");
    transcript_.note("answer stopped by the user");
  }
  if (stats.context_full) {
    terminal_.warning(fmt::format(
        "the context of {} tokens is full: the answer was cut. {}", model_.engine().context_size(),
        options_.context_full == ContextFull::stop
            ? "Type /reset to start a new conversation, or restart with a larger -c (--ctx-size)."
            : "The oldest exchanges will be dropped to make room for the next message."));
  }

  ++totals_.answers;
  totals_.prefilled += stats.prompt_tokens;
  totals_.generated += stats.generated_tokens;
  totals_.last = stats;
  totals_.last_prompt_size = prompt->size();
  totals_.last_first_piece_ms = piece_ms.empty() ? 0 : piece_ms.front();
  terminal_.dim(stats_line(stats, prompt->size(), model_.engine().position(), model_.engine().context_size()));
  if (options_.verbose) report_timing(piece_ms);
  return interrupted ? TurnResult::interrupted : TurnResult::answered;
}

void ChatSession::report_timing(const std::vector<double>& piece_ms) const {
  if (piece_ms.empty()) return;
  std::vector<double> decode(piece_ms.begin() + 1, piece_ms.end());
  std::string line = fmt::format("per-token timing: first text after {:.0f} ms (prefill + first token)", piece_ms[0]);
  if (!decode.empty()) {
    std::sort(decode.begin(), decode.end());
    line += fmt::format("; then {} at median {:.1f} ms, fastest {:.1f} ms, slowest {:.1f} ms",
                        plural(decode.size(), "piece"), decode[decode.size() / 2], decode.front(), decode.back());
  }
  terminal_.dim(line);
}

void ChatSession::reset() {
  conversation_.clear();
  model_.reset();
  transcript_.note("conversation reset");
  terminal_.notice("new conversation (the context is empty)");
}

void ChatSession::set_system(std::string system) {
  conversation_.set_system(std::move(system));
  model_.reset();
  if (conversation_.system().empty()) {
    transcript_.note("new conversation with the chat template's default system prompt");
    terminal_.notice("new conversation with the chat template's default system prompt");
  } else {
    transcript_.note("new conversation");
    transcript_.message("system", conversation_.system());
    terminal_.notice("new conversation with this system prompt");
  }
}

void ChatSession::show_stats() const {
  const auto& engine = model_.engine();
  const auto used = engine.position(), context = engine.context_size();
  terminal_.notice(fmt::format("context: {} of {} tokens used ({:.0f}%), {} in this conversation", used, context,
                               100.0 * used / context, plural(conversation_.exchanges(), "exchange")));
  terminal_.notice(fmt::format("session: {}; {} prefilled, {} generated", plural(totals_.answers, "answer"),
                               plural(totals_.prefilled, "token"), plural(totals_.generated, "token")));
  if (totals_.last) {
    const auto& s = *totals_.last;
    terminal_.notice(fmt::format(
        "last answer: prefilled {} of {} prompt tokens ({} cached) at {:.1f} t/s; generated {} at {:.1f} t/s; first "
        "text after {:.0f} ms",
        s.prompt_tokens, totals_.last_prompt_size, totals_.last_prompt_size - s.prompt_tokens,
        tokens_per_second(s.prompt_tokens, s.prompt_seconds), plural(s.generated_tokens, "token"),
        tokens_per_second(s.generated_tokens, s.generate_seconds), totals_.last_first_piece_ms));
  }
  terminal_.notice(fmt::format("model: {} ({}, {} layers), chat template {}", model_.config().name,
                               model_.config().architecture.name, model_.config().n_layers,
                               model_.chat_template().name()));
  terminal_.notice(fmt::format("sampling: {}; at most {} per answer", sampling_text(options_.load.engine.sampling),
                               plural(max_answer_tokens(), "token")));
  terminal_.notice(fmt::format("placement: {}", model_.placement()));
  terminal_.notice(fmt::format("system prompt: {}", conversation_.system().empty()
                                                        ? std::string("(the chat template's default)")
                                                        : conversation_.system()));
}

void ChatSession::save(const std::filesystem::path& path) const {
  transcript_.save(path);
  terminal_.notice(fmt::format("saved {} to {}", plural(transcript_.message_count(), "message"), path.string()));
}

}  // namespace pagoda::chat
