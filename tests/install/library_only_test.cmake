# Install.library_only_configure (tests/install/CMakeLists.txt): configures the source tree with
# SQUALL_LIBRARY_ONLY=ON into a fresh directory, with the tools' packages made unfindable
# (CMAKE_DISABLE_FIND_PACKAGE_<name>: a find_package(<name> REQUIRED) of them fails the configure), and
# checks through CMake's file API that the build would make the production library and nothing else.
# Configure only: building the library again would cost minutes, and the enclosing build already did.
#
# Input (-D): SOURCE_DIR, WORK_DIR, LIBRARY_TARGETS (comma-separated), GENERATOR, CXX_COMPILER.
cmake_minimum_required(VERSION 3.25)

set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${build}/.cmake/api/v1/query)
file(TOUCH ${build}/.cmake/api/v1/query/codemodel-v2)

execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${build} -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
          -DSQUALL_LIBRARY_ONLY=ON
          -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON
          -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "the library-only configure failed:\n${out}")
endif()

# Every target the build would make, from the file API's code model.
file(GLOB index ${build}/.cmake/api/v1/reply/index-*.json)
file(READ "${index}" index_json)
string(JSON codemodel_file GET "${index_json}" reply codemodel-v2 jsonFile)
file(READ ${build}/.cmake/api/v1/reply/${codemodel_file} codemodel)
string(JSON target_count LENGTH "${codemodel}" configurations 0 targets)
set(targets "")
math(EXPR last "${target_count} - 1")
foreach(i RANGE ${last})
  string(JSON name GET "${codemodel}" configurations 0 targets ${i} name)
  list(APPEND targets ${name})
endforeach()
list(SORT targets)
message(STATUS "library-only targets: ${targets}")

string(REPLACE "," ";" expected "${LIBRARY_TARGETS}")
list(SORT expected)
if(NOT targets STREQUAL expected)
  message(FATAL_ERROR "a library-only build has the targets ${targets}, expected exactly ${expected}")
endif()
