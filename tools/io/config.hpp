// Reading YAML configs into typed values with units, so that every mistake a user can
// make in a config is reported with file:line:column, the key path, what is wrong and
// what is allowed (a did-you-mean for misspelt keys and choices).
//
// Usage, for any config kind (run, tune, train):
//   ConfigDocument doc = load_config("configs/lif.yaml", {"populations.lif.size=10"});
//   ConfigNode root = doc.root;
//   root.expect_keys({"dt", "duration", "seed", "populations"});   // unknown keys -> error
//   double dt = root.at("dt").as_quantity(models::Quantity::time);  // "0.1 ms" -> 0.1
//   for (auto& [name, pop] : root.at("populations").entries()) ...
// Every accessor throws io::ConfigError pointing at the node.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "models/quantity.hpp"

namespace ranvier::io {

// Where the nodes of one document came from: the file, and the --set overrides.
struct ConfigSource {
  std::string file;
  std::vector<std::pair<std::string, std::string>> overrides;  // (key path, "key=value")
};

class ConfigNode {
 public:
  ConfigNode(YAML::Node node, std::string key_path, std::shared_ptr<const ConfigSource> source);

  const std::string& key_path() const { return path_; }
  std::string where() const;  // "file:line:column" of this node (1-based), or the --set
  const YAML::Node& yaml() const { return node_; }

  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  bool is_null() const { return !node_ || node_.IsNull(); }

  // Mappings. `at` requires the key; `find` returns nullopt when absent or null.
  ConfigNode at(std::string_view key) const;
  std::optional<ConfigNode> find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key).has_value(); }
  // (key, value) in file order; the node must be a mapping.
  std::vector<std::pair<std::string, ConfigNode>> entries() const;
  // Rejects any key not in `allowed`, naming the closest allowed key.
  void expect_keys(std::initializer_list<std::string_view> allowed) const;
  void expect_keys(const std::vector<std::string>& allowed) const;

  // Sequences (a scalar is not accepted as a sequence of one; use `as_list` for that).
  std::vector<ConfigNode> items() const;
  // A scalar or a sequence of scalars, as a list.
  std::vector<ConfigNode> as_list() const;

  // Scalars.
  std::string as_string() const;
  double as_double() const;                 // a plain number, no unit
  std::int64_t as_int() const;              // a whole number
  std::int64_t as_int(std::int64_t min, std::int64_t max) const;  // ... within [min, max]
  bool as_bool() const;
  // One of `allowed`; otherwise an error listing them, with a did-you-mean.
  std::string as_choice(const std::vector<std::string>& allowed) const;
  // A quantity with a unit ("20 ms", "-65 mV", "10 uA/cm2", "200 Hz", "1e-3 s") converted
  // to the canonical unit of `q`; a bare number is taken in the canonical unit. A unit of
  // another dimension is an error saying what was expected.
  double as_quantity(models::Quantity q) const;
  // As above, but returns whether the text carried a unit (for LIF's normalized form).
  std::pair<double, bool> as_quantity_with_flag(models::Quantity q) const;

  // Getters with defaults for optional keys.
  std::string get_string(std::string_view key, std::string fallback) const;
  double get_double(std::string_view key, double fallback) const;
  std::int64_t get_int(std::string_view key, std::int64_t fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;
  double get_quantity(std::string_view key, models::Quantity q, double fallback) const;

  // Throws ConfigError at this node.
  [[noreturn]] void fail(const std::string& message) const;

 private:
  YAML::Node node_;
  std::string path_;
  std::shared_ptr<const ConfigSource> source_;
};

struct ConfigDocument {
  std::string file;      // as given
  std::string text;      // the full config after overrides, as YAML (stored in outputs)
  ConfigNode root;
};

// Loads `path`, applies each "--set key.path=value" override (value parsed as YAML, so
// lists and quoted strings work; a key path may create a new key) and returns the root,
// which must be a mapping. YAML syntax errors name file:line:column.
ConfigDocument load_config(const std::string& path, const std::vector<std::string>& overrides);
// The same from text (tests, and configs embedded in result files); `name` stands in
// for the file name in messages.
ConfigDocument parse_config(const std::string& text, const std::string& name,
                            const std::vector<std::string>& overrides = {});

// The closest of `candidates` to `word` by edit distance, or "" if none is close enough.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace ranvier::io
