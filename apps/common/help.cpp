#include "common/help.hpp"

#include <ostream>

namespace pagoda::apps {

boost::program_options::options_description flag_group(const std::string& caption) {
  return boost::program_options::options_description(caption, help_line_length, help_description_length);
}

void print_help(std::ostream& out, const HelpText& help, const boost::program_options::options_description& flags) {
  out << help.app << ": " << help.summary << "\n\n";
  const std::string_view first = "Usage: ", rest = "       ";
  for (std::size_t i = 0; i < help.usages.size(); ++i)
    out << (i == 0 ? first : rest) << help.app << ' ' << help.usages[i] << '\n';
  out << flags;  // the groups, each after a blank line
  if (!help.notes.empty()) out << '\n' << help.notes << '\n';
}

}  // namespace pagoda::apps
