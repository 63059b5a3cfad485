#include "tools/io/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "tools/io/errors.hpp"
#include "tools/io/units.hpp"

namespace ranvier::io {

namespace {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) s += sep;
    s += items[i];
  }
  return s;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower((unsigned char)a[i - 1]) == std::tolower((unsigned char)b[j - 1]);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

}  // namespace

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  return best_d <= limit ? best : std::string();
}

ConfigNode::ConfigNode(YAML::Node node, std::string key_path,
                       std::shared_ptr<const ConfigSource> source)
    : node_(std::move(node)), path_(std::move(key_path)), source_(std::move(source)) {}

std::string ConfigNode::where() const {
  // A value set on the command line has no place in the file: name the --set instead.
  for (const auto& [p, assignment] : source_->overrides)
    if (path_ == p || path_.starts_with(p + ".") || path_.starts_with(p + "["))
      return "--set " + assignment;
  const YAML::Mark m = node_ ? node_.Mark() : YAML::Mark::null_mark();
  if (m.is_null()) return source_->file;
  return fmt::format("{}:{}:{}", source_->file, m.line + 1, m.column + 1);
}

void ConfigNode::fail(const std::string& message) const {
  throw ConfigError(where(), path_, message);
}

ConfigNode ConfigNode::at(std::string_view key) const {
  if (!is_map()) fail(fmt::format("expected a mapping with the key '{}'", key));
  const YAML::Node child = node_[std::string(key)];
  if (!child || child.IsNull()) fail(fmt::format("the key '{}' is required here", key));
  return ConfigNode(child, child_path(path_, key), source_);
}

std::optional<ConfigNode> ConfigNode::find(std::string_view key) const {
  if (is_null()) return std::nullopt;
  if (!is_map()) fail("expected a mapping (key: value lines)");
  const YAML::Node child = node_[std::string(key)];
  if (!child || child.IsNull()) return std::nullopt;
  return ConfigNode(child, child_path(path_, key), source_);
}

namespace {
constexpr const char* kComplexKey =
    "a key must be a name, not a list or mapping (a '? ' line or '[a, b]:' makes one)";
}  // namespace

std::vector<std::pair<std::string, ConfigNode>> ConfigNode::entries() const {
  if (is_null()) return {};
  if (!is_map()) fail("expected a mapping (name: value lines)");
  std::vector<std::pair<std::string, ConfigNode>> out;
  for (const auto& kv : node_) {
    // A key that is a list or mapping ("? target: hh") threw YAML::TypedBadConversion
    // here, an internal error (found by fuzz_config).
    if (!kv.first.IsScalar())
      ConfigNode(kv.first, path_, source_).fail(kComplexKey);
    const std::string key = kv.first.Scalar();
    out.emplace_back(key, ConfigNode(kv.second, child_path(path_, key), source_));
  }
  return out;
}

void ConfigNode::expect_keys(std::initializer_list<std::string_view> allowed) const {
  expect_keys(std::vector<std::string>(allowed.begin(), allowed.end()));
}

void ConfigNode::expect_keys(const std::vector<std::string>& allowed) const {
  if (is_null()) return;
  if (!is_map()) fail("expected a mapping (key: value lines)");
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) ConfigNode(kv.first, path_, source_).fail(kComplexKey);
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const ConfigNode at_key(kv.first, child_path(path_, key), source_);
    const std::string guess = did_you_mean(key, allowed);
    at_key.fail(fmt::format("unknown key '{}'{}; allowed here: {}", key,
                            guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess),
                            join(allowed, ", ")));
  }
}

std::vector<ConfigNode> ConfigNode::items() const {
  if (!is_sequence()) fail("expected a list ([a, b, ...] or '- item' lines)");
  std::vector<ConfigNode> out;
  std::size_t i = 0;
  for (const auto& item : node_) out.emplace_back(item, fmt::format("{}[{}]", path_, i++), source_);
  return out;
}

std::vector<ConfigNode> ConfigNode::as_list() const {
  if (is_sequence()) return items();
  if (is_scalar()) return {*this};
  fail("expected a value or a list of values");
}

std::string ConfigNode::as_string() const {
  if (!is_scalar()) fail("expected a single value, not a list or mapping");
  return node_.Scalar();
}

double ConfigNode::as_double() const {
  const std::string s = as_string();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') fail(fmt::format("'{}' is not a number", s));
  if (!std::isfinite(v)) fail(fmt::format("'{}' is not a finite number", s));
  return v;
}

std::int64_t ConfigNode::as_int() const {
  const std::string s = as_string();
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0' || errno == ERANGE)
    fail(fmt::format("'{}' is not a whole number", s));
  return v;
}

std::int64_t ConfigNode::as_int(std::int64_t min, std::int64_t max) const {
  const std::int64_t v = as_int();
  if (v < min || v > max)
    fail(max == std::numeric_limits<std::int64_t>::max()
             ? fmt::format("{} is out of range: must be at least {}", v, min)
             : fmt::format("{} is out of range: must be between {} and {}", v, min, max));
  return v;
}

bool ConfigNode::as_bool() const {
  const std::string s = as_string();
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail(fmt::format("'{}' is not a boolean; write true or false", s));
}

std::string ConfigNode::as_choice(const std::vector<std::string>& allowed) const {
  const std::string s = as_string();
  if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return s;
  const std::string guess = did_you_mean(s, allowed);
  fail(fmt::format("'{}' is not allowed here{}; choose one of: {}", s,
                   guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess),
                   join(allowed, ", ")));
}

std::pair<double, bool> ConfigNode::as_quantity_with_flag(models::Quantity q) const {
  const std::string s = as_string();
  try {
    const ParsedQuantity p = parse_quantity(s, q);
    return {p.value, p.had_unit};
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
}

double ConfigNode::as_quantity(models::Quantity q) const { return as_quantity_with_flag(q).first; }

std::string ConfigNode::get_string(std::string_view key, std::string fallback) const {
  auto n = find(key);
  return n ? n->as_string() : fallback;
}
double ConfigNode::get_double(std::string_view key, double fallback) const {
  auto n = find(key);
  return n ? n->as_double() : fallback;
}
std::int64_t ConfigNode::get_int(std::string_view key, std::int64_t fallback) const {
  auto n = find(key);
  return n ? n->as_int() : fallback;
}
bool ConfigNode::get_bool(std::string_view key, bool fallback) const {
  auto n = find(key);
  return n ? n->as_bool() : fallback;
}
double ConfigNode::get_quantity(std::string_view key, models::Quantity q, double fallback) const {
  auto n = find(key);
  return n ? n->as_quantity(q) : fallback;
}

namespace {

std::string yaml_error_message(const YAML::Exception& e) {
  // yaml-cpp prefixes "yaml-cpp: error at line L, column C: "; the location is ours.
  return e.msg;
}

// Applies "a.b.c=value" to `root`, creating mappings on the way. Returns the key path.
std::string apply_override(YAML::Node& root, const std::string& assignment) {
  const std::size_t eq = assignment.find('=');
  const std::string where = "--set " + assignment;
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(where, "", "expected --set key.path=value (e.g. --set dt=\"0.05 ms\")");
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(where, path, "the value is not valid YAML: " + yaml_error_message(e));
  }
  if (!value || value.IsNull()) value = YAML::Node(text);

  std::vector<std::string> segments;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    segments.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  YAML::Node cur = root;
  std::string walked;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& seg = segments[i];
    if (seg.empty()) throw ConfigError(where, path, "the key path has an empty part");
    const bool last = i + 1 == segments.size();
    YAML::Node next;
    if (cur.IsSequence()) {
      char* end = nullptr;
      const long idx = std::strtol(seg.c_str(), &end, 10);
      if (*end != '\0' || idx < 0 || static_cast<std::size_t>(idx) >= cur.size())
        throw ConfigError(where, walked,
                          fmt::format("'{}' is a list of {} items; '{}' is not an index into it",
                                      walked, cur.size(), seg));
      if (last) {
        cur[idx] = value;
        break;
      }
      next.reset(cur[idx]);
    } else {
      if (!cur.IsMap() && !cur.IsNull())
        throw ConfigError(where, walked,
                          fmt::format("'{}' is a single value, so it has no key '{}'", walked, seg));
      if (last) {
        cur[seg] = value;
        break;
      }
      next.reset(cur[seg]);
      if (!next || next.IsNull()) {
        cur[seg] = YAML::Node(YAML::NodeType::Map);
        next.reset(cur[seg]);
      }
    }
    walked = walked.empty() ? seg : walked + "." + seg;
    cur.reset(next);
  }
  return path;
}

}  // namespace

ConfigDocument parse_config(const std::string& text, const std::string& name,
                            const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    const std::string where =
        e.mark.is_null() ? name : fmt::format("{}:{}:{}", name, e.mark.line + 1, e.mark.column + 1);
    throw ConfigError(where, "", "YAML syntax error: " + yaml_error_message(e));
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap())
    throw ConfigError(name, "", "a config must be a mapping of keys (e.g. 'dt: 0.1 ms'), not a "
                                "single value or a list");
  auto source = std::make_shared<ConfigSource>();
  source->file = name;
  for (const auto& o : overrides) source->overrides.emplace_back(apply_override(root, o), o);
  YAML::Emitter out;
  out << root;
  ConfigDocument doc{name, std::string(out.c_str()) + "\n",
                     ConfigNode(root, "", std::move(source))};
  return doc;
}

ConfigDocument load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError(path, "", fmt::format("cannot open the config file: {}",
                                            std::strerror(errno)));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_config(buffer.str(), path, overrides);
}

}  // namespace ranvier::io
