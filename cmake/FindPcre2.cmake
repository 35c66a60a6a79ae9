# PCRE2 (8-bit, Debian's libpcre2-dev) as the target pagoda::pcre2: through
# pkg-config where it exists, else by a plain header and library search (the
# GPU machines unpack Debian packages into a prefix and may lack pkg-config).
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PCRE2 QUIET IMPORTED_TARGET libpcre2-8)
endif()
add_library(pagoda::pcre2 INTERFACE IMPORTED)
if(PCRE2_FOUND)
  target_link_libraries(pagoda::pcre2 INTERFACE PkgConfig::PCRE2)
else()
  find_path(PCRE2_INCLUDE_DIR pcre2.h)
  find_library(PCRE2_LIBRARY NAMES pcre2-8)
  if(NOT PCRE2_INCLUDE_DIR OR NOT PCRE2_LIBRARY)
    message(FATAL_ERROR "pagoda: PCRE2 (8-bit) not found; install Debian's libpcre2-dev")
  endif()
  target_include_directories(pagoda::pcre2 INTERFACE ${PCRE2_INCLUDE_DIR})
  target_link_libraries(pagoda::pcre2 INTERFACE ${PCRE2_LIBRARY})
endif()
