# `cmake --install` for pagoda as a library: the headers, the static libraries,
# and a CMake package so that another project writes
#
#   find_package(pagoda 0.1 REQUIRED)          # pagoda::pagoda, and pagoda::cuda where built
#   find_package(pagoda 0.1 REQUIRED COMPONENTS cuda)   # refuses a CPU-only install
#
# The two exported targets are the in-tree ones under the same names:
#   pagoda::pagoda  pagoda_host: GGUF, mapping, quant formats, tokenizer, the
#                   CPU oracle (and pagoda::load in a CPU-only build);
#   pagoda::cuda    pagoda_cuda: the kernels' explicit instantiations (one
#                   generated unit per format), the CUDA engines and pagoda::load;
#                   PAGODA_HAS_CUDA=1 for its users.
# They go to two export sets so that a CPU-only install has no CUDA file to
# read and a CUDA install is read without the CUDA Toolkit when only
# pagoda::pagoda is wanted. The kernel headers (include/pagoda/kernels/*.cuh)
# are installed with the rest: a consumer's .cu instantiates a kernel template
# for a format of its own (examples/consumer).
include(CMakePackageConfigHelpers)

set(PAGODA_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/pagoda)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/pagoda
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT pagoda_development
  FILES_MATCHING PATTERN "*.hpp" PATTERN "*.cuh")

install(TARGETS pagoda_host EXPORT pagodaTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT pagoda_development
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT pagoda_runtime
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT pagoda_runtime)
install(EXPORT pagodaTargets
  NAMESPACE pagoda::
  DESTINATION ${PAGODA_INSTALL_CMAKEDIR}
  COMPONENT pagoda_development)

if(TARGET pagoda_cuda)
  install(TARGETS pagoda_cuda EXPORT pagodaCudaTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT pagoda_development
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT pagoda_runtime
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT pagoda_runtime)
  # The kernel headers' generated extern template declarations.
  install(DIRECTORY ${pagoda_generated_include_dir}/pagoda
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    COMPONENT pagoda_development
    FILES_MATCHING PATTERN "*.hpp")
  install(EXPORT pagodaCudaTargets
    NAMESPACE pagoda::
    DESTINATION ${PAGODA_INSTALL_CMAKEDIR}
    COMPONENT pagoda_development)
  set(PAGODA_INSTALL_HAS_CUDA TRUE)
  # The package's default for a consumer that names no CUDA architectures:
  # the ones these kernels were built for.
  set(PAGODA_INSTALL_CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}")
else()
  set(PAGODA_INSTALL_HAS_CUDA FALSE)
  set(PAGODA_INSTALL_CUDA_ARCHITECTURES "")
endif()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/pagodaConfig.cmake.in
  ${PROJECT_BINARY_DIR}/pagodaConfig.cmake
  INSTALL_DESTINATION ${PAGODA_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API, so a consumer asking for 0.1 gets
# 0.1.y only; from 1.0 on, SameMajorVersion's usual meaning.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_pagoda_compatibility SameMinorVersion)
else()
  set(_pagoda_compatibility SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pagodaConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY ${_pagoda_compatibility})
install(FILES
  ${PROJECT_BINARY_DIR}/pagodaConfig.cmake
  ${PROJECT_BINARY_DIR}/pagodaConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindPcre2.cmake
  DESTINATION ${PAGODA_INSTALL_CMAKEDIR}
  COMPONENT pagoda_development)

# The apps and benchmarks that this configuration built. Their RPATH keeps the
# shared libraries they were linked against (libcudart, libfmt outside the
# system paths), so an installed binary runs as the built one does.
set(_pagoda_programs pagoda-chat pagoda-generate pagoda-synth pagoda-bench pagoda-kernel-bench)
foreach(_program IN LISTS _pagoda_programs)
  if(TARGET ${_program})
    set_target_properties(${_program} PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
    install(TARGETS ${_program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT pagoda_runtime)
  endif()
endforeach()
