// Loading the committed reference vectors (tests/data/reference, made by
// make_reference.py from registry packages — see its README).
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "support/real_model.hpp"

namespace pagoda::test {

inline nlohmann::json load_reference(const std::string& name) {
  std::ifstream in(reference_data(name));
  REQUIRE_MESSAGE(in.good(), "missing reference file " << reference_data(name).string());
  return nlohmann::json::parse(in);
}

// Decodes standard base64 (the full-vocabulary logit vectors).
inline std::vector<std::uint8_t> decode_base64(const std::string& text) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::vector<std::uint8_t> out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = value_of(c);
    if (v < 0) continue;  // '=' padding
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(buffer >> bits));
    }
  }
  return out;
}

inline std::vector<float> decode_float32_base64(const std::string& text) {
  const auto bytes = decode_base64(text);
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

}  // namespace pagoda::test
