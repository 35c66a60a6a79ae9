// --help, the same shape in every app: what it is, the usage lines, the flags
// in columns wide enough that no description word is broken, then notes.
#pragma once

#include <iosfwd>
#include <string_view>
#include <vector>

#include <boost/program_options/options_description.hpp>

namespace pagoda::apps {

// Every app's flag groups use this layout (boost wraps descriptions at spaces
// within these columns; a word longer than a description column would be cut).
inline constexpr unsigned help_line_length = 110;
inline constexpr unsigned help_description_length = 60;

// A flag group in the shared layout.
[[nodiscard]] boost::program_options::options_description flag_group(const std::string& caption);

struct HelpText {
  std::string_view app;                  // "pagoda-chat"
  std::string_view summary;              // one line: what the app does
  std::vector<std::string_view> usages;  // the arguments after the app's name, one usage each
  std::string_view notes;                // after the flags (may be empty)
};

// "APP: SUMMARY", a blank line, "Usage: APP ..." (one line per usage), then
// `flags`: a captionless flag_group holding the captioned groups.
void print_help(std::ostream& out, const HelpText& help, const boost::program_options::options_description& flags);

}  // namespace pagoda::apps
