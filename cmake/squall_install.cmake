# Installing squall's production libraries (docs/production.md, "Install").
#
#   squall_install_library(<target>)
#
# makes <target> an installed library of the squall package:
#  - its exported name is <target> without the "squall_" prefix, so squall_http is squall::http to a
#    consumer of the installed package; write the in-tree ALIAS the same way (squall::http) so that code
#    in the tree and outside it link the same names;
#  - its public headers are every .hpp below the folder whose CMakeLists.txt created the target, installed
#    at the same relative path under <prefix>/include/squall/ (policies/core/call.hpp ->
#    include/squall/policies/core/call.hpp). The exported target's include directories are
#    include/squall (so the in-tree spelling #include "policies/core/call.hpp" keeps working) and include
#    (so <squall/policies/core/call.hpp> works as well). In the build tree the header set gives the target
#    the repository root as its include directory; a plain ${PROJECT_SOURCE_DIR} include directory must
#    not be added (install(EXPORT) refuses source paths; wrap it in $<BUILD_INTERFACE:...> if needed).
#  - a sub-folder that holds an installed library of its own (policies/asio) keeps its headers for that
#    library: call squall_install_library for the parent folder's target after add_subdirectory of such
#    sub-folders (an error says so otherwise).
#
# A new library folder, client/ for instance, needs one call:
#   add_library(squall_client client.cpp)
#   add_library(squall::client ALIAS squall_client)
#   target_link_libraries(squall_client PUBLIC squall::http)
#   squall_target_warnings(squall_client)
#   squall_install_library(squall_client)   # exported as squall::client, headers in include/squall/client/
#
# Install rules are written only when SQUALL_INSTALL is on (the top-level option); a superproject that
# adds the policies folder alone gets the header set (and its include directory) but no install rules.
include_guard(GLOBAL)
include(GNUInstallDirs)

function(squall_install_library target)
  if(ARGN)
    message(FATAL_ERROR "squall_install_library(${target}): unexpected arguments ${ARGN}")
  endif()
  if(NOT target MATCHES "^squall_(.+)$")
    message(FATAL_ERROR "squall_install_library(${target}): installed targets are named squall_<name>")
  endif()
  set(export_name ${CMAKE_MATCH_1})
  cmake_path(GET CMAKE_CURRENT_FUNCTION_LIST_DIR PARENT_PATH root)
  get_target_property(folder ${target} SOURCE_DIR)

  get_property(claimed GLOBAL PROPERTY squall_installed_folders)
  foreach(other IN LISTS claimed)
    cmake_path(IS_PREFIX other "${folder}" NORMALIZE inside_other)
    if(inside_other)
      message(FATAL_ERROR "squall_install_library(${target}): ${folder} lies inside ${other}, whose library "
        "was installed first and took its headers; install the library of the inner folder first")
    endif()
  endforeach()

  file(GLOB_RECURSE found CONFIGURE_DEPENDS "${folder}/*.hpp")
  set(headers "")
  foreach(header IN LISTS found)
    set(nested_library FALSE)
    foreach(other IN LISTS claimed)
      cmake_path(IS_PREFIX other "${header}" NORMALIZE inside_other)
      if(inside_other)
        set(nested_library TRUE)
      endif()
    endforeach()
    if(NOT nested_library)
      list(APPEND headers "${header}")
    endif()
  endforeach()

  set_property(GLOBAL APPEND PROPERTY squall_installed_folders "${folder}")
  set_property(GLOBAL APPEND PROPERTY squall_installed_targets ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  target_sources(${target} PUBLIC FILE_SET HEADERS BASE_DIRS "${root}" FILES ${headers})

  if(SQUALL_INSTALL)
    install(TARGETS ${target} EXPORT squall-targets
      ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT library
      LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT library
      RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT library
      FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/squall COMPONENT library
      INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
endfunction()
