# PCRE2 (8-bit, Debian's libpcre2-dev) as the target pagoda::pcre2: through
# pkg-config where it exists, else by a plain header and library search (the
# GPU machines unpack Debian packages into a prefix and may lack pkg-config).
# Included by the build (CMakeLists.txt) and by the installed package
# (pagodaConfig.cmake: the static pagoda library links PCRE2 privately, so its
# consumers link it too). Sets PAGODA_PCRE2_FOUND; each includer says what a
# missing PCRE2 means for it.
if(TARGET pagoda::pcre2)
  set(PAGODA_PCRE2_FOUND TRUE)
  return()
endif()
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PCRE2 QUIET IMPORTED_TARGET libpcre2-8)
endif()
if(PCRE2_FOUND)
  add_library(pagoda::pcre2 INTERFACE IMPORTED)
  target_link_libraries(pagoda::pcre2 INTERFACE PkgConfig::PCRE2)
  set(PAGODA_PCRE2_FOUND TRUE)
else()
  find_path(PCRE2_INCLUDE_DIR pcre2.h)
  find_library(PCRE2_LIBRARY NAMES pcre2-8)
  if(PCRE2_INCLUDE_DIR AND PCRE2_LIBRARY)
    add_library(pagoda::pcre2 INTERFACE IMPORTED)
    target_include_directories(pagoda::pcre2 INTERFACE ${PCRE2_INCLUDE_DIR})
    target_link_libraries(pagoda::pcre2 INTERFACE ${PCRE2_LIBRARY})
    set(PAGODA_PCRE2_FOUND TRUE)
  else()
    set(PAGODA_PCRE2_FOUND FALSE)
  endif()
endif()
