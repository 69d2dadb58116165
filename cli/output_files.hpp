#pragma once
// Writing a run's outputs so that a reader never sees half a file: each file goes through a temporary
// name and a rename.
#include <filesystem>
#include <string>

namespace squall::cli {

bool write_atomically(const std::filesystem::path& file, const std::string& text, std::string& error);

// Quotes an argument for a POSIX shell, so a printed reproduce command can be pasted as is.
std::string shell_quote(const std::string& s);

}  // namespace squall::cli
