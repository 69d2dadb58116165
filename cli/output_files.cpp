#include "cli/output_files.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>

namespace fs = std::filesystem;

namespace squall::cli {
namespace {

bool write_file(const fs::path& file, const std::string& text, std::string& error) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) {
    error = "cannot write " + file.string();
    return false;
  }
  out << text;
  out.flush();
  out.close();
  if (!out) {
    error = "cannot write " + file.string() + " (disk full?)";
    return false;
  }
  return true;
}

// The outermost directory that create_directories(dir) would create, or empty when `dir` exists: what
// to remove again when writing fails, so that a failed run leaves no new empty folders either.
fs::path first_missing(const fs::path& dir) {
  std::error_code ec;
  fs::path missing;
  for (fs::path p = dir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing = p;
    if (p == p.parent_path()) break;
  }
  return missing;
}

}  // namespace

bool write_atomically(const fs::path& file, const std::string& text, std::string& error) {
  const fs::path temp = file.string() + ".tmp";
  std::error_code ignored;
  if (!write_file(temp, text, error)) {
    fs::remove(temp, ignored);
    return false;
  }
  std::error_code ec;
  fs::rename(temp, file, ec);
  if (ec) {
    error = "cannot rename " + temp.string() + " to " + file.string() + ": " + ec.message();
    fs::remove(temp, ignored);
    return false;
  }
  return true;
}

bool write_file_set(const fs::path& dir, const std::vector<named_text>& files, std::string& error) {
  std::error_code ec;
  fs::path target = fs::absolute(dir, ec).lexically_normal();
  if (ec) {
    error = "cannot use output directory " + dir.string() + ": " + ec.message();
    return false;
  }
  if (!target.has_filename()) target = target.parent_path();  // "out/" names "out"
  if (target == target.root_path()) {
    error = "cannot write outputs into the root directory " + target.string() + "; give --out a directory below it";
    return false;
  }
  const bool exists = fs::exists(target, ec);
  if (exists && !fs::is_directory(target, ec)) {
    error = "cannot write outputs into " + dir.string() + ": it exists and is not a directory";
    return false;
  }
  // Checked before anything is written: a destination that a rename could not replace.
  for (const auto& [name, text] : files) {
    const fs::path destination = target / name;
    const auto status = fs::symlink_status(destination, ec);
    if (fs::exists(status) && !fs::is_regular_file(status) && !fs::is_symlink(status)) {
      error = "cannot write " + destination.string() + ": it exists and is not a regular file";
      return false;
    }
  }

  const fs::path parent = target.parent_path();
  const fs::path created = first_missing(parent);
  std::error_code ignored;
  auto fail = [&](std::string message, const fs::path& temp) {
    error = std::move(message);
    if (!temp.empty()) fs::remove_all(temp, ignored);
    if (!created.empty()) fs::remove_all(created, ignored);
    return false;
  };
  fs::create_directories(parent, ec);
  if (ec) return fail("cannot create output directory " + parent.string() + ": " + ec.message(), {});

  // A name no other writer uses: this process's id and a counter (compare and run may write in turn).
  static std::atomic<unsigned> sequence{0};
  const fs::path temp = parent / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                  std::to_string(sequence++));
  fs::remove_all(temp, ignored);
  if (!fs::create_directory(temp, ec) || ec) {
    return fail("cannot create output directory " + temp.string() + ": " + (ec ? ec.message() : "it exists"), {});
  }
  for (const auto& [name, text] : files) {
    if (!write_file(temp / name, text, error)) return fail(error, temp);
  }

  if (exists && fs::is_empty(target, ec) && !ec) fs::remove(target, ignored);
  if (!fs::exists(target, ec)) {
    fs::rename(temp, target, ec);
    if (ec) return fail("cannot rename " + temp.string() + " to " + target.string() + ": " + ec.message(), temp);
    return true;
  }
  // The directory holds other files (earlier outputs, or a user's --out .): replace ours one by one.
  for (const auto& [name, text] : files) {
    fs::rename(temp / name, target / name, ec);
    if (ec) {
      error = "cannot rename " + (temp / name).string() + " to " + (target / name).string() + ": " + ec.message();
      fs::remove_all(temp, ignored);
      return false;
    }
  }
  fs::remove_all(temp, ignored);
  return true;
}

std::string path_component(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\' || u < 0x20 || u == 0x7f) c = '_';
  }
  if (out.empty()) return "_";
  if (out == "." || out == "..") return std::string(out.size(), '_');
  return out;
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
