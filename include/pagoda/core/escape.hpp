// Strings from a file (GGUF metadata, tensor names, token text) made safe to
// put in an error message: a NUL byte would cut the message where a C API
// prints it, a control byte would move the terminal's cursor, and invalid
// UTF-8 would print as garbage. Every message that quotes such a string
// passes it through escaped().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pagoda {

// Printable ASCII and well-formed UTF-8 sequences are kept; `\` becomes `\\`,
// \n \r \t stay readable as such, every other control byte and every byte that
// is not part of well-formed UTF-8 becomes \xNN. Longer than `max_bytes`: the
// start is kept and the rest is said as "... (N bytes in all)".
[[nodiscard]] std::string escaped(std::string_view text, std::size_t max_bytes = 200);

}  // namespace pagoda
