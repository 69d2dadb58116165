#pragma once
// The exit codes are part of squall's contract with CI systems; README.md documents them.
namespace squall::cli {

inline constexpr int exit_ok = 0;                 // the run finished and every assertion held
inline constexpr int exit_assertions_failed = 1;  // the run finished and an assertion (or comparison) failed
inline constexpr int exit_bad_input = 2;          // scenario, policy file, results file or flag is wrong
inline constexpr int exit_io_error = 3;           // the outputs could not be written
// The run was stopped before the end of its scenario (SIGINT, SIGTERM, the wall-clock limit --max-wall-s,
// or a live cap): the outputs were written, every one marked incomplete, configurations that never ran
// have the verdict "not run". Never 0: an interrupted run has not shown that its assertions hold.
inline constexpr int exit_incomplete = 4;
// The service under test failed (a scenario with a "service"): it did not start, was not ready in time, or
// exited during the run. The message names what happened and its log; the outputs hold what ran, marked
// incomplete; the service was stopped (nothing of it is left running).
inline constexpr int exit_service_failed = 5;
// squall itself failed: an exception no command caught (a bug) or memory exhausted. EX_SOFTWARE of
// sysexits.h, so that a CI log never mistakes it for bad input or a failed assertion.
inline constexpr int exit_internal_error = 70;

}  // namespace squall::cli
