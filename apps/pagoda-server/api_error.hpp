// An error the server answers with: the HTTP status and OpenAI's error object
//   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
// Thrown by the protocol units (request parsing, validation) and caught by
// the HTTP glue, which writes exactly this body with exactly this status.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace pagoda::server {

class ApiError : public std::runtime_error {
public:
  ApiError(int status, std::string message, std::string type, std::optional<std::string> param = std::nullopt,
           std::optional<std::string> code = std::nullopt)
      : std::runtime_error(message), status_(status), type_(std::move(type)), param_(std::move(param)),
        code_(std::move(code)) {}

  [[nodiscard]] int status() const { return status_; }
  [[nodiscard]] const std::string& type() const { return type_; }
  [[nodiscard]] const std::optional<std::string>& param() const { return param_; }
  [[nodiscard]] const std::optional<std::string>& code() const { return code_; }

  // {"error": {...}}; param and code are null when absent, as OpenAI writes them.
  [[nodiscard]] nlohmann::json body() const {
    const auto or_null = [](const std::optional<std::string>& value) {
      return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
    };
    return {{"error", {{"message", what()}, {"type", type_}, {"param", or_null(param_)}, {"code", or_null(code_)}}}};
  }

private:
  int status_;
  std::string type_;
  std::optional<std::string> param_;
  std::optional<std::string> code_;
};

// The common ones, named as OpenAI's API names them.
[[nodiscard]] inline ApiError invalid_request(std::string message, std::optional<std::string> param = std::nullopt,
                                              std::optional<std::string> code = std::nullopt) {
  return {400, std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

}  // namespace pagoda::server
