#include "cli/terminal.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace squall::cli {

terminal detect_terminal(bool quiet, bool no_color) {
  terminal t;
  t.quiet = quiet;
  const char* no_color_env = std::getenv("NO_COLOR");
  t.color = isatty(STDOUT_FILENO) != 0 && !no_color && !(no_color_env && *no_color_env);
  t.tty = isatty(STDERR_FILENO) != 0;
  return t;
}

progress_display::progress_display(const terminal& term, std::string label)
    : term_(term), label_(std::move(label)), started_(std::chrono::steady_clock::now()) {}

double progress_display::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void progress_display::update(double fraction) {
  if (term_.quiet) return;
  fraction = std::clamp(fraction, 0.0, 1.0);
  const double elapsed = elapsed_s();
  // Short runs show nothing: a bar that flashes for 200 ms only adds noise to the output.
  if (elapsed < 1.0) return;
  const double remaining = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
  if (term_.tty) {
    constexpr int width = 24;
    const int filled = static_cast<int>(fraction * width);
    char bar[width + 1];
    for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '-';
    bar[width] = '\0';
    std::fprintf(stderr, "\r  %-20s [%s] %5.1f%%  %6.1f s elapsed, ~%.1f s left ", label_.c_str(), bar,
                 fraction * 100, elapsed, remaining);
    std::fflush(stderr);
    drawn_ = true;
    return;
  }
  // A CI log gets one line per quarter, not a stream of carriage returns.
  while (next_logged_quarter_ <= 3 && fraction >= next_logged_quarter_ * 0.25) {
    std::fprintf(stderr, "  %s: %d%% done, %.1f s elapsed, ~%.1f s left\n", label_.c_str(),
                 next_logged_quarter_ * 25, elapsed, remaining);
    ++next_logged_quarter_;
  }
}

void progress_display::finish() {
  if (drawn_) std::fprintf(stderr, "\r%*s\r", 96, "");
  drawn_ = false;
}

}  // namespace squall::cli
