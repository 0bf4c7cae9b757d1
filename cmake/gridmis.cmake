# One helper per kind of target, warnings from one interface target.

add_library(gridmis_warnings INTERFACE)
target_compile_options(gridmis_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wnon-virtual-dtor -Wcast-align
  -Wno-missing-field-initializers  # designated initialisers leave the rest defaulted on purpose
  -Werror=return-type -Werror=unused-result)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(gridmis_warnings INTERFACE
    -Wshadow=local
    -Wno-restrict)  # g++ 12 false positive in Release
endif()

# gridmis_library(NAME SRCS a.cc b.cc DEPS x y)
function(gridmis_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE gridmis_warnings)
endfunction()

# gridmis_test(NAME SRCS a_test.cc DEPS x LABELS unit)
function(gridmis_test name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT GRIDMIS_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main
                                         gridmis_warnings)
  set(labels ${ARG_LABELS})
  if(NOT labels)
    set(labels unit)
  endif()
  add_test(NAME ${name} COMMAND ${name} --gtest_brief=1)
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT 600)
endfunction()
