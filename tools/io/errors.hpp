// User errors raised at the edges (configs, data files, output paths). Each says where,
// what is wrong and what is allowed; the program turns every one into exit code 2.
// Internal bugs are not UserErrors and are reported as such.
#pragma once

#include <stdexcept>
#include <string>

namespace ranvier::io {

struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A config that cannot be used. `where` is "file:line:column" (or "--set key=value"),
// `key_path` the dotted path of the offending key ("populations.lif.params.tau_m").
struct ConfigError : UserError {
  ConfigError(std::string where, std::string key_path, const std::string& message)
      : UserError(format(where, key_path, message)),
        where(std::move(where)),
        key_path(std::move(key_path)),
        message(message) {}
  std::string where;
  std::string key_path;
  std::string message;

 private:
  static std::string format(const std::string& where, const std::string& key_path,
                            const std::string& message) {
    std::string s = where.empty() ? std::string() : where + ": ";
    if (!key_path.empty()) s += key_path + ": ";
    return s + message;
  }
};

// A data or model file that cannot be read: wrong magic, truncated, counts that differ,
// a non-numeric CSV cell (row and column named), a label out of range...
struct DataError : UserError {
  using UserError::UserError;
};

// An output that cannot or may not be written: exists without --force, directory not
// writable, disk full.
struct OutputError : UserError {
  using UserError::UserError;
};

}  // namespace ranvier::io
