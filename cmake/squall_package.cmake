# The installed package of the production library (docs/production.md, "Install"): the exported targets
# with squallConfig.cmake and its version file, squall.pc, and CPack's Debian packages. Every library
# that cmake/squall_install.cmake installed is in it; nothing else of the tree is.
include(CMakePackageConfigHelpers)

get_property(squall_installed_targets GLOBAL PROPERTY squall_installed_targets)
set(squall_export_names "")
set(squall_exported_targets "")
foreach(target IN LISTS squall_installed_targets)
  get_target_property(name ${target} EXPORT_NAME)
  list(APPEND squall_export_names ${name})
  list(APPEND squall_exported_targets squall::${name})
endforeach()
list(JOIN squall_exported_targets ", " squall_exported_targets)
list(JOIN squall_export_names " " squall_export_names)

# --- CMake package: find_package(squall CONFIG) ---
set(squall_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/squall)
install(EXPORT squall-targets NAMESPACE squall:: FILE squallTargets.cmake
  DESTINATION ${squall_cmake_dir} COMPONENT library)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/squallConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/squallConfig.cmake INSTALL_DESTINATION ${squall_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/squallConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/squallConfig.cmake ${PROJECT_BINARY_DIR}/package/squallConfigVersion.cmake
  DESTINATION ${squall_cmake_dir} COMPONENT library)

# --- pkg-config: squall.pc ---
# Libraries in link order: a library before those it depends on. One not named here is new, and depends on
# the others, so it goes first.
set(squall_pc_libs "")
set(squall_link_order squall_client squall_http squall_asio squall_policies)
foreach(target IN LISTS squall_installed_targets)
  if(NOT target IN_LIST squall_link_order)
    list(APPEND squall_pc_libs -l$<TARGET_FILE_BASE_NAME:${target}>)
  endif()
endforeach()
foreach(target IN LISTS squall_link_order)
  if(target IN_LIST squall_installed_targets)
    list(APPEND squall_pc_libs -l$<TARGET_FILE_BASE_NAME:${target}>)
  endif()
endforeach()
list(JOIN squall_pc_libs " " squall_pc_libs)
# nlohmann_json is in the public headers. simdjson and OpenSSL are only linked by squall::http: static
# archives (the default) need them on every link line, so plain `pkg-config --libs` must list them;
# shared libraries carry them themselves.
if(BUILD_SHARED_LIBS)
  set(squall_pc_requires "nlohmann_json >= 3.11")
  set(squall_pc_requires_private "simdjson, openssl")
else()
  set(squall_pc_requires "nlohmann_json >= 3.11, simdjson, openssl")
  set(squall_pc_requires_private "")
endif()
file(RELATIVE_PATH squall_pc_prefix_from_pcfiledir
  ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" squall_pc_prefix_from_pcfiledir "${squall_pc_prefix_from_pcfiledir}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/squall.pc.in ${PROJECT_BINARY_DIR}/package/squall.pc.in @ONLY)
# Library file names are known at generation time only.
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/package/squall.pc INPUT ${PROJECT_BINARY_DIR}/package/squall.pc.in)
install(FILES ${PROJECT_BINARY_DIR}/package/squall.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT library)

# --- CPack: `cpack -G DEB` in the build directory ---
# libsquall-dev: the library component (headers, static archives, CMake package, squall.pc). The squall
# command line (component cli, only in a full build) is a package of its own, so that a service's build
# machine need not install the tool, and the tool's users need no headers.
set(CPACK_PACKAGE_NAME squall)
set(CPACK_PACKAGE_VENDOR squall)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# Each package's description below starts with its own one-line summary. CPackDeb puts any other summary
# in front of it, except CPack's default one, so this is the default's text on purpose.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_NAME} built using CMake")
set(SQUALL_PACKAGE_MAINTAINER "squall maintainers <maintainers@users.noreply.b-seed-64a29329.example>"
  CACHE STRING "The Maintainer field of squall's Debian packages")
set(CPACK_PACKAGE_CONTACT "${SQUALL_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SQUALL_PACKAGE_MAINTAINER}")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <name>_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)

set(CPACK_COMPONENTS_ALL library)
set(CPACK_DEBIAN_LIBRARY_PACKAGE_NAME libsquall-dev)
set(CPACK_DEBIAN_LIBRARY_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_LIBRARY_PACKAGE_DEPENDS
  "libboost-dev (>= 1.74), nlohmann-json3-dev (>= 3.11), libsimdjson-dev, libssl-dev")
set(CPACK_COMPONENT_LIBRARY_DESCRIPTION
  "resilience policies for AI-provider calls (development files)\n\
Retry with backoff and retry budgets, timeouts, circuit breaker, hedging, rate limiting, adaptive\n\
throttling, bulkhead, token budgets, caching, coalescing, batching, fallback, routing and degraded\n\
answers, composed from a JSON policy file; a Boost.Asio real-clock runtime and an HTTP transport for\n\
OpenAI- and Anthropic-style APIs. Headers, static libraries, a CMake package (find_package(squall))\n\
and a pkg-config file (squall.pc).")

if(TARGET squall AND NOT SQUALL_LIBRARY_ONLY)
  list(APPEND CPACK_COMPONENTS_ALL cli)
  set(CPACK_DEBIAN_CLI_PACKAGE_NAME squall)
  set(CPACK_DEBIAN_CLI_PACKAGE_SECTION devel)
  # Shared-library dependencies (libssl3, libsimdjson, libstdc++) as dpkg-shlibdeps finds them in the
  # binary, when dpkg-dev is there to do it.
  find_program(SQUALL_DPKG_SHLIBDEPS dpkg-shlibdeps)
  if(SQUALL_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_CLI_PACKAGE_SHLIBDEPS ON)
  else()
    set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "libc6, libstdc++6, libssl3, libsimdjson14")
  endif()
  set(CPACK_COMPONENT_CLI_DESCRIPTION
    "chaos testing and simulation of resilience policies for AI-provider calls\n\
The squall command: runs scenario files against the resilience policies in deterministic virtual time\n\
or live against fake OpenAI- and Anthropic-style providers, and writes results, HTML reports, JUnit\n\
XML and comparisons between runs.")
endif()

include(CPack)
