# Warnings for pagoda's own targets (not for dependencies).
add_library(pagoda_warnings INTERFACE)
target_compile_options(pagoda_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wno-missing-field-initializers>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall --expt-relaxed-constexpr>)
