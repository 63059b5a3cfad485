// `ranvier info FILE` (what a result or model file holds) and `ranvier models` (every
// model, parameter, unit and default, from the one registry in models/).
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/model_info.hpp"
#include "tools/cli/commands.hpp"
#include "tools/io/errors.hpp"
#include "tools/io/h5.hpp"
#include "tools/io/h5_probe.hpp"

namespace ranvier::cli {

namespace {

std::string type_name(const H5::DataSet& ds) {
  const H5T_class_t c = ds.getTypeClass();
  const std::size_t bits = ds.getDataType().getSize() * 8;
  if (c == H5T_FLOAT) return fmt::format("float{}", bits);
  if (c == H5T_INTEGER) {
    const bool is_signed = ds.getIntType().getSign() != H5T_SGN_NONE;
    return fmt::format("{}int{}", is_signed ? "" : "u", bits);
  }
  if (c == H5T_STRING) return "string";
  return "other";
}

// Scalar attributes in one line ("model=hh size=3"); long text (configs) left out.
std::string attr_summary(const H5::H5Object& obj) {
  std::string s;
  const int n = obj.getNumAttrs();
  for (int i = 0; i < n; ++i) {
    H5::Attribute a = obj.openAttribute(static_cast<unsigned>(i));
    const std::string name = a.getName();
    if (name == "units" || name == "config") continue;
    std::string value;
    if (a.getTypeClass() == H5T_STRING) {
      // An array of strings would overflow HDF5's one-string read (h5::read_string_attr).
      if (a.getSpace().getSimpleExtentNpoints() != 1) continue;
      a.read(a.getStrType(), value);
      if (value.size() > 60 || value.find('\n') != std::string::npos) continue;
    } else if (a.getSpace().getSimpleExtentNpoints() == 1 &&
               (a.getTypeClass() == H5T_FLOAT || a.getTypeClass() == H5T_INTEGER)) {
      double v = 0;
      a.read(H5::PredType::NATIVE_DOUBLE, &v);
      value = fmt::format("{:.6g}", v);
    } else {
      continue;
    }
    s += fmt::format(" {}={}", name, value);
  }
  return s;
}

void walk(const H5::Group& g, const std::string& path, int depth, std::string& out) {
  // Hard links can make a group its own descendant: a cycle would recurse until the
  // stack overflows. Ranvier's files are 5 levels deep.
  if (depth > 64)
    throw io::DataError(fmt::format("{}: groups nested more than 64 deep (a link cycle?)", path));
  const hsize_t n = g.getNumObjs();
  for (hsize_t i = 0; i < n; ++i) {
    const std::string name = g.getObjnameByIdx(i);
    const std::string child = path == "/" ? "/" + name : path + "/" + name;
    const std::string indent(2 * depth, ' ');
    if (g.childObjType(name) == H5O_TYPE_GROUP) {
      H5::Group sub = g.openGroup(name);
      fmt::format_to(std::back_inserter(out), "{}{}/{}\n", indent, child, attr_summary(sub));
      walk(sub, child, depth + 1, out);
    } else if (g.childObjType(name) == H5O_TYPE_DATASET) {
      H5::DataSet ds = g.openDataSet(name);
      H5::DataSpace space = ds.getSpace();
      std::vector<hsize_t> dims(space.getSimpleExtentNdims());
      space.getSimpleExtentDims(dims.data());
      std::string shape;
      for (std::size_t k = 0; k < dims.size(); ++k)
        shape += (k ? " x " : "") + std::to_string(dims[k]);
      const auto units = ranvier::io::h5::read_string_attr(ds, "units");
      fmt::format_to(std::back_inserter(out), "{}{}  ({}) {}{}{}\n", indent, child,
                     shape.empty() ? "scalar" : shape, type_name(ds),
                     units ? " [" + *units + "]" : "", attr_summary(ds));
    }
  }
}

// The listing is built first and printed whole: a file damaged half-way gives an error,
// not half a listing followed by one.
std::string describe_file(const std::string& path) {
  std::string out;
  H5::H5File file = io::h5::open_for_reading(path);
  H5::Group root = file.openGroup("/");
  const auto program = io::h5::read_string_attr(root, "program");
  const auto text = [&](const char* key) {
    return io::h5::read_string_attr(root, key).value_or("?");
  };
  if (program)
    fmt::format_to(std::back_inserter(out), "{}: {} file written by {} on {}\n", path, text("kind"),
                   *program, text("created"));
  else
    fmt::format_to(std::back_inserter(out),
                   "{}: HDF5 file not written by ranvier (no 'program' attribute)\n", path);
  if (auto cf = io::h5::read_string_attr(root, "config_file"))
    fmt::format_to(std::back_inserter(out),
                   "  config {} (full text in the root attribute 'config')\n", *cf);
  if (auto complete = io::h5::read_double_attr(root, "complete"); complete && *complete == 0)
    fmt::format_to(std::back_inserter(out),
                   "  INCOMPLETE: the run was stopped at t = {} ms (attribute simulated_until)\n",
                   io::h5::read_double_attr(root, "simulated_until").value_or(0.0));
  fmt::format_to(std::back_inserter(out), "  attributes:{}\n", attr_summary(root));
  walk(root, "/", 1, out);
  return out;
}

void info(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw io::DataError(fmt::format("'{}' does not exist", path));
  if (fs::is_directory(path, ec))
    throw io::DataError(fmt::format("'{}' is a directory; give a result or model file", path));
  io::h5::quiet_errors();
  try {
    if (!H5::H5File::isHdf5(path))
      throw io::DataError(fmt::format(
          "'{}' is not an HDF5 file (no HDF5 signature; an empty file, a text file, or one cut "
          "short before its header); ranvier info reads the .h5 files of run, tune and train",
          path));
    fmt::print("{}", describe_file(path));
  } catch (const H5::Exception& e) {
    throw io::DataError(io::h5::explain(e, path, "read"));
  }
}

const char* constraint_name(models::Constraint c) {
  switch (c) {
    case models::Constraint::any:
      return "any";
    case models::Constraint::positive:
      return "> 0";
    case models::Constraint::nonnegative:
      return ">= 0";
  }
  return "?";
}

std::string unit_label(models::Quantity q, bool normalizable) {
  const std::string unit(models::canonical_unit(q));
  return normalizable ? unit + " or 1" : unit;
}

void list_models(const std::string& only) {
  bool found = false;
  for (const models::ModelInfo& m : models::model_registry()) {
    if (!only.empty() && m.name != only) continue;
    found = true;
    fmt::print("{}\n  {}\n", m.name, m.description);
    std::string integrators;
    for (std::size_t i = 0; i < m.integrators.size(); ++i)
      integrators += (i ? ", " : "") + m.integrators[i] + (i == 0 ? " (default)" : "");
    fmt::print("  integrators: {}\n", integrators);
    fmt::print("  input: {} [{}]{}\n", models::quantity_name(m.input_quantity),
               models::canonical_unit(m.input_quantity),
               m.input_normalizable ? ", or v_in (no unit) in the normalized form" : "");
    fmt::print("  parameters:\n    {:<10} {:>9}  {:<12} {:<6} {}\n", "name", "default", "unit",
               "check", "meaning");
    for (const auto& p : m.params)
      fmt::print("    {:<10} {:>9.6g}  {:<12} {:<6} {}\n", p.name, p.default_value,
                 unit_label(p.quantity, p.normalizable), constraint_name(p.constraint),
                 p.description);
    fmt::print("  state (recordable, settable under 'initial'; 'I' records the input):\n");
    for (const auto& s : m.state)
      fmt::print("    {:<10} {:<12} {}\n", s.name, unit_label(s.quantity, s.normalizable),
                 s.description);
    fmt::print("\n");
  }
  if (!found) {
    std::vector<std::string> names;
    for (const auto& m : models::model_registry()) names.push_back(m.name);
    throw io::UserError(
        fmt::format("no model named '{}'; models: {}", only, fmt::join(names, ", ")));
  }
  if (only.empty())
    fmt::print(
        "A bare number in a config means the unit shown; write units as \"20 ms\", "
        "\"-65 mV\", \"0.5 nA\", \"10 uA/cm2\". 'unit or 1': LIF's normalized form has no "
        "units (voltages in units of threshold).\n");
}

}  // namespace

void add_info_commands(CLI::App& app, Context& ctx) {
  auto path = std::make_shared<std::string>();
  CLI::App* info_cmd = app.add_subcommand("info", "Show what a result or model file (HDF5) holds");
  info_cmd->add_option("file", *path, "HDF5 file written by ranvier")->required();
  info_cmd->callback([path] { info(*path); });

  auto model = std::make_shared<std::string>();
  CLI::App* models_cmd = app.add_subcommand(
      "models", "List every neuron model with its parameters, units and defaults");
  models_cmd->add_option("model", *model, "Show only this model");
  models_cmd->callback([model] { list_models(*model); });
}

}  // namespace ranvier::cli
