#pragma once
// The chart libraries that report.html carries inline: Vega, Vega-Lite and vega-embed, taken from npm
// (reports/html/web/package-lock.json pins them) and compiled into the binary by embed_assets.cmake.

#include <array>
#include <cstddef>
#include <string_view>

namespace squall::reports::html_assets {

struct library {
  std::string_view name;     // the npm package
  std::string_view version;  // as installed from package-lock.json
  std::string_view code;     // the minified UMD build, exactly as shipped
};

// In load order: vega, vega-lite (needs vega), vega-embed (needs both).
const std::array<library, 3>& libraries();

}  // namespace squall::reports::html_assets
