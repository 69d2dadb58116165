# Included by the top-level CMakeLists.txt and by policies/CMakeLists.txt (which must also work when a
# superproject adds the policies folder alone), hence the guard.
include_guard(GLOBAL)

# Warnings are errors on squall's own targets only; dependencies' headers come in as SYSTEM.
function(squall_target_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
    -Werror)
endfunction()
