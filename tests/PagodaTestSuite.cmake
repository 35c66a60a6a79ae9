# pagoda_add_test_suite(<folder>): all tests/<folder>/*.cpp in one doctest
# executable, registered as one ctest test named after the folder.
function(pagoda_add_test_suite folder)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${folder}/*.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(test_${folder} ${sources} ${CMAKE_CURRENT_SOURCE_DIR}/support/doctest_main.cpp)
  target_link_libraries(test_${folder} PRIVATE pagoda_test_support pagoda_warnings ${ARGN})
  target_compile_definitions(test_${folder} PRIVATE
    PAGODA_TEST_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/data")
  add_test(NAME ${folder} COMMAND test_${folder})
  set_tests_properties(${folder} PROPERTIES TIMEOUT 900)
endfunction()

function(pagoda_add_gpu_test_suite folder)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${folder}/*.cpp
                                      ${CMAKE_CURRENT_SOURCE_DIR}/${folder}/*.cu)
  if(NOT sources)
    return()
  endif()
  add_executable(test_${folder} ${sources} ${CMAKE_CURRENT_SOURCE_DIR}/support/gpu_main.cu)
  target_link_libraries(test_${folder} PRIVATE pagoda_test_support pagoda_warnings pagoda::cuda
                        CUDA::cudart ${ARGN})
  target_compile_definitions(test_${folder} PRIVATE
    PAGODA_TEST_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/data")
  add_test(NAME ${folder} COMMAND test_${folder})
  set_tests_properties(${folder} PROPERTIES TIMEOUT 900 SKIP_RETURN_CODE 77 LABELS gpu)
endfunction()
