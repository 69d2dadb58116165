#pragma once
// Writing a run's outputs so that a reader never sees half of them: a single file goes through a
// temporary name and a rename; a set of files (the five outputs of a run) is written into a temporary
// directory beside its target and moved into place only once every file is whole.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace squall::cli {

bool write_atomically(const std::filesystem::path& file, const std::string& text, std::string& error);

// One file of a set: its name inside the directory, and its content.
using named_text = std::pair<std::string, std::string>;

// Writes every file of `files` into directory `dir`, all or nothing: they are first written into a
// temporary directory beside `dir` (same file system, so the moves below are renames). When `dir` does
// not exist (or is empty) the temporary directory becomes it by one rename; otherwise each file is
// renamed over its old version, in the order given (put the file tools look for last). Any failure
// before the moves (a parent that is a file, a full disk, a destination that is a directory) leaves no
// file of the set and no temporary directory behind; directories created for `dir` are removed again.
// Returns false with `error` set on failure.
bool write_file_set(const std::filesystem::path& dir, const std::vector<named_text>& files, std::string& error);

// A name from a scenario (or `replay --name`) made safe to use as one path component under the output
// root: '/', '\\' and control characters become '_', and a name that is empty, "." or ".." becomes
// underscores, so that "../../x" stays inside squall-out/ (as ".._.._x"). Other names are unchanged.
std::string path_component(const std::string& name);

// Quotes an argument for a POSIX shell, so a printed reproduce command can be pasted as is.
std::string shell_quote(const std::string& s);

}  // namespace squall::cli
