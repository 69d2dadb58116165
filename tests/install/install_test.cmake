# Install.consumer (tests/install/CMakeLists.txt): installs the production library of the enclosing build
# tree into a fresh prefix, checks what the prefix holds and squall.pc, then configures, builds and runs
# an outside project (consumer/) that finds the package with find_package(squall) and uses it.
#
# Input (-D): BINARY_DIR, SOURCE_DIR, WORK_DIR, LIBRARY_TARGETS (comma-separated), VERSION, LIBDIR,
# INCLUDEDIR, GENERATOR, CXX_COMPILER, COMPILER_LAUNCHER, BUILD_TYPE, CXX_FLAGS, CXX_FLAGS_CONFIG, EXE_LINKER_FLAGS,
# SQUALL_BINARY, PYTHON.
cmake_minimum_required(VERSION 3.25)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT code EQUAL 0)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "failed (${code}): ${command}\n${out}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# The library as the build tree has it now. A no-op after a full build; it makes the test honest when only
# some targets were built since the last change.
string(REPLACE "," ";" library_targets "${LIBRARY_TARGETS}")
run(${CMAKE_COMMAND} --build ${BINARY_DIR} --target ${library_targets})
run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix} --component library)

# --- What the prefix holds: the library's headers, archives, CMake package and squall.pc; nothing else.
foreach(file IN ITEMS ${INCLUDEDIR}/squall/policies/core/call.hpp ${INCLUDEDIR}/squall/policies/pipeline/pipeline.hpp
                      ${INCLUDEDIR}/squall/policies/retry/retry_options.hpp
                      ${INCLUDEDIR}/squall/policies/asio/asio_runtime.hpp
                      ${INCLUDEDIR}/squall/policies/http/http_transport.hpp
                      ${LIBDIR}/cmake/squall/squallConfig.cmake ${LIBDIR}/cmake/squall/squallConfigVersion.cmake
                      ${LIBDIR}/cmake/squall/squallTargets.cmake ${LIBDIR}/pkgconfig/squall.pc)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "the install lacks ${file}")
  endif()
endforeach()
file(GLOB top_level RELATIVE ${prefix}/${INCLUDEDIR}/squall ${prefix}/${INCLUDEDIR}/squall/*)
foreach(entry IN LISTS top_level)
  if(NOT entry MATCHES "^(policies|client)$")
    message(FATAL_ERROR "${INCLUDEDIR}/squall/${entry} is installed; only the library's folders (policies/, "
      "client/) may be, never sim/, cli/, tests/ or the like")
  endif()
endforeach()
file(GLOB_RECURSE stray RELATIVE ${prefix} ${prefix}/*)
list(FILTER stray EXCLUDE REGEX "^${INCLUDEDIR}/squall/(policies|client)/.*\\.hpp$")
list(FILTER stray EXCLUDE REGEX "^${LIBDIR}/libsquall_[a-z_]+\\.(a|so[.0-9]*)$")
list(FILTER stray EXCLUDE REGEX "^${LIBDIR}/cmake/squall/squall[A-Za-z-]*\\.cmake$")
list(FILTER stray EXCLUDE REGEX "^${LIBDIR}/pkgconfig/squall\\.pc$")
if(stray)
  message(FATAL_ERROR "installed files that are not the library's: ${stray}")
endif()
foreach(target IN LISTS library_targets)
  file(GLOB library ${prefix}/${LIBDIR}/lib${target}.*)
  if(NOT library)
    message(FATAL_ERROR "the install lacks the library of ${target}")
  endif()
endforeach()

# --- squall.pc: valid, and its flags lead into the prefix.
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/${LIBDIR}/pkgconfig)
run(${PKG_CONFIG} --validate squall)
run(${PKG_CONFIG} --modversion squall)
string(STRIP "${run_output}" pc_version)
if(NOT pc_version STREQUAL VERSION)
  message(FATAL_ERROR "squall.pc has version ${pc_version}, the project ${VERSION}")
endif()
run(${PKG_CONFIG} --cflags --libs squall)
string(STRIP "${run_output}" pc_flags)
message(STATUS "pkg-config --cflags --libs squall: ${pc_flags}")
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
set(include_dirs "")
set(lib_dirs "")
set(libs "")
foreach(flag IN LISTS pc_flags)
  if(flag MATCHES "^-I(.+)$")
    file(REAL_PATH "${CMAKE_MATCH_1}" dir)
    list(APPEND include_dirs "${dir}")
  elseif(flag MATCHES "^-L(.+)$")
    file(REAL_PATH "${CMAKE_MATCH_1}" dir)
    list(APPEND lib_dirs "${dir}")
  elseif(flag MATCHES "^-l(.+)$")
    list(APPEND libs "${CMAKE_MATCH_1}")
  endif()
endforeach()
file(REAL_PATH ${prefix} real_prefix)
if(NOT "${real_prefix}/${INCLUDEDIR}/squall" IN_LIST include_dirs)
  message(FATAL_ERROR "squall.pc lacks -I<prefix>/${INCLUDEDIR}/squall")
endif()
if(NOT "${real_prefix}/${LIBDIR}" IN_LIST lib_dirs)
  message(FATAL_ERROR "squall.pc lacks -L<prefix>/${LIBDIR}")
endif()
# The archives' own dependencies too: static archives do not carry them.
foreach(library IN LISTS library_targets ITEMS simdjson ssl crypto)
  if(NOT library IN_LIST libs)
    message(FATAL_ERROR "squall.pc does not link ${library}")
  endif()
endforeach()

# A build with squall.pc alone: the compiler, its flags (the enclosing build's, sanitizers included) and
# pkg-config's. One small source, so that it costs a second or two.
separate_arguments(compile_flags UNIX_COMMAND "${CXX_FLAGS} ${CXX_FLAGS_CONFIG}")
separate_arguments(link_flags UNIX_COMMAND "${EXE_LINKER_FLAGS}")
run(${CXX_COMPILER} -std=c++20 ${compile_flags} ${SOURCE_DIR}/tests/install/pkg_config_consumer.cpp
  -o ${WORK_DIR}/pkg_config_consumer ${pc_flags} ${link_flags})
run(${WORK_DIR}/pkg_config_consumer)
if(NOT run_output STREQUAL "retry_scheduled\n")
  message(FATAL_ERROR "the program built with squall.pc printed '${run_output}'")
endif()

# --- An outside project on the installed package, with the enclosing build's compiler, build type and
# (sanitizer) flags, so that it links against the archives as they were compiled.
set(launcher "")
if(COMPILER_LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER})
endif()
string(TOUPPER "${BUILD_TYPE}" config)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${WORK_DIR}/consumer -G ${GENERATOR}
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${launcher} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_CXX_FLAGS_${config}=${CXX_FLAGS_CONFIG}"
  "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/squall_consumer ${SOURCE_DIR}/scenarios/policies/retry-backoff.json)
message(STATUS "consumer: ${run_output}")

# --- The example service (examples/ask_service), a production-shaped user of squall::client, built the
# same way against the same prefix, then run in front of `squall serve --tls` by ask_service_test.py.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/ask_service -B ${WORK_DIR}/ask_service -G ${GENERATOR}
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${launcher} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_CXX_FLAGS_${config}=${CXX_FLAGS_CONFIG}"
  "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/ask_service)
run(${PYTHON} ${SOURCE_DIR}/tests/install/ask_service_test.py ${SQUALL_BINARY}
  ${WORK_DIR}/ask_service/ask_service ${SOURCE_DIR} ${WORK_DIR}/ask_run)
message(STATUS "ask_service: ${run_output}")
