#pragma once
// How squall talks to the person (or CI log) running it: colour, quietness, and progress. Progress is a
// redrawn bar on a terminal, a few plain lines when stderr is a log file (CI), and nothing with --quiet.
#include <chrono>
#include <string>

namespace squall::cli {

struct terminal {
  bool quiet = false;
  bool color = false;
  bool tty = false;  // stderr is a terminal: progress redraws one line; otherwise it logs plain lines
};

// NO_COLOR (https://no-color.org) in the environment disables colour like --no-color does.
terminal detect_terminal(bool quiet, bool no_color);

// Progress of one long step (a configuration's run). Wall-clock time is read here for the display only;
// it never reaches results.
class progress_display {
 public:
  progress_display(const terminal& term, std::string label);
  // `fraction` of the work is done, in [0, 1].
  void update(double fraction);
  // Clears the bar (terminal) so the caller can print its own line.
  void finish();
  double elapsed_s() const;

 private:
  const terminal& term_;
  std::string label_;
  std::chrono::steady_clock::time_point started_;
  int next_logged_quarter_ = 1;  // plain-line mode logs at 25%, 50%, 75%
  bool drawn_ = false;
};

}  // namespace squall::cli
