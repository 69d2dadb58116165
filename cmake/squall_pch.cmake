# Precompiled Boost.Asio and Beast headers for the targets whose files are built on them (the fake
# providers, the HTTP transport, their tests). Parsing Asio, Beast and Asio's SSL layer took about 9 of the
# 20 CPU seconds of such a file under the sanitizer presets; with the headers precompiled, a file of the
# fake providers' per-API answers went from 9 s to 4.6 s (measured with /usr/bin/time on g++ 12, asan flags).
# A file of the target that does not use Asio pays about half a second to load the precompiled header.
# Off with -DSQUALL_PCH=OFF (e.g. to check that every file includes what it uses).
option(SQUALL_PCH "Precompile the Asio and Beast headers for the targets built on them" ON)

function(squall_asio_pch target)
  if(SQUALL_PCH)
    # <utility> first: Asio's awaitable.hpp uses std::exchange without including it.
    target_precompile_headers(${target} PRIVATE <utility> <boost/asio.hpp> <boost/asio/ssl.hpp>
                              <boost/beast/core.hpp> <boost/beast/http.hpp> <nlohmann/json.hpp>)
  endif()
endfunction()
