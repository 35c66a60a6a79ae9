# Generates, from one template per kernel family, both halves of its explicit
# instantiation for every format of the family's list:
#   - one CUDA unit per format holding that format's instantiations, so a
#     change to one format recompiles one small file;
#   - one header per family declaring them all `extern template`, included at
#     the end of the family's header, so no includer compiles its own copy.
# Adding a format to the list adds its units and its extern declarations
# together; nothing is written by hand per format. Included by
# cuda/CMakeLists.txt; sets pagoda_generated_cuda_sources and
# pagoda_generated_include_dir.
#
# The format names are read from the single list in
# include/pagoda/quant/format_list.hpp (`using formats = type_list<...>;`), so
# there is no second list to keep in step.

set(_pagoda_format_list ${PROJECT_SOURCE_DIR}/include/pagoda/quant/format_list.hpp)
set(_pagoda_template_dir ${CMAKE_CURRENT_SOURCE_DIR}/templates)
set(_pagoda_generated_dir ${CMAKE_CURRENT_BINARY_DIR}/generated)

# Kernel families: every cuda/templates/<family>_format.cu.in is one, and its
# extern templates are declared in include/pagoda/kernels/<family>.cuh. Adding
# a family is adding that template and that header; nothing to edit here.
file(GLOB _pagoda_family_templates CONFIGURE_DEPENDS ${_pagoda_template_dir}/*_format.cu.in)
set(_pagoda_kernel_families "")
foreach(_template IN LISTS _pagoda_family_templates)
  get_filename_component(_file ${_template} NAME)
  string(REGEX REPLACE "_format\\.cu\\.in$" "" _family ${_file})
  list(APPEND _pagoda_kernel_families ${_family})
  set(_pagoda_family_header_${_family} ${PROJECT_SOURCE_DIR}/include/pagoda/kernels/${_family}.cuh)
endforeach()

# Re-run configuration when the list, a header or a template changes.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_pagoda_format_list})

file(READ ${_pagoda_format_list} _pagoda_list_text)
string(REGEX MATCH "using formats = type_list<([^>]*)>;" _pagoda_match "${_pagoda_list_text}")
if(NOT _pagoda_match)
  message(FATAL_ERROR "pagoda: could not find `using formats = type_list<...>;` in ${_pagoda_format_list}")
endif()
string(REGEX REPLACE "[ \t\r\n]" "" _pagoda_names "${CMAKE_MATCH_1}")
string(REPLACE "," ";" pagoda_quant_formats "${_pagoda_names}")
foreach(_name IN LISTS pagoda_quant_formats)
  if(NOT _name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "pagoda: quant::formats entry `${_name}` is not a plain format name")
  endif()
endforeach()

# The families on the field-streams layout (named *_streams) follow its own
# list, quant::field_stream_formats in include/pagoda/quant/field_streams.hpp.
set(_pagoda_streams_list ${PROJECT_SOURCE_DIR}/include/pagoda/quant/field_streams.hpp)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_pagoda_streams_list})
file(READ ${_pagoda_streams_list} _pagoda_streams_text)
string(REGEX MATCH "using field_stream_formats = type_list<([^>]*)>;" _pagoda_match "${_pagoda_streams_text}")
if(NOT _pagoda_match)
  message(FATAL_ERROR "pagoda: could not find `using field_stream_formats = type_list<...>;` in ${_pagoda_streams_list}")
endif()
string(REGEX REPLACE "[ \t\r\n]" "" _pagoda_names "${CMAKE_MATCH_1}")
string(REPLACE "," ";" pagoda_field_stream_formats "${_pagoda_names}")
foreach(_name IN LISTS pagoda_field_stream_formats)
  if(NOT _name IN_LIST pagoda_quant_formats)
    message(FATAL_ERROR "pagoda: quant::field_stream_formats entry `${_name}` is not in quant::formats")
  endif()
endforeach()

set(pagoda_generated_include_dir ${CMAKE_CURRENT_BINARY_DIR}/include)
set(_pagoda_generated_header_dir ${pagoda_generated_include_dir}/pagoda/kernels/generated)
set(pagoda_generated_cuda_sources "")
foreach(_family IN LISTS _pagoda_kernel_families)
  set(_header ${_pagoda_family_header_${_family}})
  set(_template ${_pagoda_template_dir}/${_family}_format.cu.in)
  set(_externs_name ${_family}_externs.hpp)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_header} ${_template})
  # The family header must include its generated declarations; without them
  # each caller would silently compile its own copy of the kernel.
  file(READ ${_header} _header_text)
  string(FIND "${_header_text}" "#include <pagoda/kernels/generated/${_externs_name}>" _found)
  if(_found EQUAL -1)
    message(FATAL_ERROR "pagoda: ${_header} does not include <pagoda/kernels/generated/${_externs_name}> "
      "(the extern template declarations generated from ${_template})")
  endif()
  set(_family_formats ${pagoda_quant_formats})
  set(_family_list "quant::formats")
  if(_family MATCHES "_streams$")
    set(_family_formats ${pagoda_field_stream_formats})
    set(_family_list "quant::field_stream_formats")
  endif()
  file(READ ${_template} _template_text)
  set(_externs "")
  foreach(_name IN LISTS _family_formats)
    set(PAGODA_FORMAT ${_name})
    string(TOLOWER ${_name} _lower)
    set(_unit ${_pagoda_generated_dir}/${_family}_${_lower}.cu)
    configure_file(${_template} ${_unit} @ONLY)
    list(APPEND pagoda_generated_cuda_sources ${_unit})
    # Every explicit instantiation of the unit (a line starting `template `,
    # up to its semicolon) becomes an `extern template` declaration.
    string(CONFIGURE "${_template_text}" _configured @ONLY)
    string(REGEX MATCHALL "\ntemplate [^;]+" _instantiations "${_configured}")
    if(NOT _instantiations)
      message(FATAL_ERROR "pagoda: ${_template} has no line starting `template ` (an explicit instantiation)")
    endif()
    foreach(_instantiation IN LISTS _instantiations)
      string(SUBSTRING "${_instantiation}" 1 -1 _instantiation)
      string(APPEND _externs "extern ${_instantiation};\n")
    endforeach()
  endforeach()
  file(CONFIGURE OUTPUT ${_pagoda_generated_header_dir}/${_externs_name} CONTENT
"// Generated by cuda/GenerateFormatUnits.cmake from
// cuda/templates/${_family}_format.cu.in: edit the template, not this file.
// The explicit instantiations pagoda_cuda holds, one unit per format of
// ${_family_list}, declared here so that no includer compiles its own copy.
// Included at the end of pagoda/kernels/${_family}.cuh.
#pragma once

namespace pagoda::kernels {

@_externs@
}  // namespace pagoda::kernels
" @ONLY)
endforeach()

list(LENGTH pagoda_quant_formats _pagoda_count)
message(STATUS "pagoda: ${_pagoda_count} quant formats from format_list.hpp: ${pagoda_quant_formats}")
