#include "cli/output_files.hpp"

#include <fstream>

namespace fs = std::filesystem;

namespace squall::cli {

bool write_atomically(const fs::path& file, const std::string& text, std::string& error) {
  const fs::path temp = file.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) {
      error = "cannot write " + temp.string();
      return false;
    }
    out << text;
    out.flush();
    if (!out) {
      error = "cannot write " + temp.string() + " (disk full?)";
      std::error_code ignored;
      fs::remove(temp, ignored);
      return false;
    }
  }
  std::error_code ec;
  fs::rename(temp, file, ec);
  if (ec) {
    error = "cannot rename " + temp.string() + " to " + file.string() + ": " + ec.message();
    return false;
  }
  return true;
}

std::string shell_quote(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                       "0123456789-_./=:") == std::string::npos;
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace squall::cli
