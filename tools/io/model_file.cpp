#include "tools/io/model_file.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <Eigen/Core>

#include "tools/io/errors.hpp"
#include "tools/io/h5.hpp"
#include "tools/io/h5_probe.hpp"

namespace ranvier::io {

namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void write_floats(const H5::Group& g, const std::string& name, const std::vector<float>& v) {
  h5::write_matrix(g, name, v.data(), v.size(), 1);
}

std::vector<float> read_floats(const H5::Group& g, const std::string& name) {
  std::size_t r = 0, c = 0;
  const std::vector<double> d = h5::read_matrix(g, name, r, c);
  return std::vector<float>(d.begin(), d.end());
}

std::string need_string(const H5::H5Object& o, const std::string& name, const std::string& where) {
  auto v = h5::read_string_attr(o, name);
  if (!v) throw DataError(fmt::format("{}: attribute '{}' is missing", where, name));
  return *v;
}

double need_double(const H5::H5Object& o, const std::string& name, const std::string& where) {
  auto v = h5::read_double_attr(o, name);
  if (!v) throw DataError(fmt::format("{}: attribute '{}' is missing", where, name));
  return *v;
}

// A count or index stored as a number attribute: whole, finite and within [lo, hi],
// checked before any conversion (a cast of NaN or 1e300 to int is undefined behaviour).
double whole_in_range(double v, double lo, double hi, const std::string& name,
                      const std::string& where) {
  if (!(v == std::floor(v) && v >= lo && v <= hi))
    throw DataError(fmt::format("{}: attribute '{}' is {}, not a whole number from {} to {}", where,
                                name, v, lo, hi));
  return v;
}

double need_count(const H5::H5Object& o, const std::string& name, const std::string& where,
                  double lo, double hi) {
  return whole_in_range(need_double(o, name, where), lo, hi, name, where);
}

double optional_count(const H5::H5Object& o, const std::string& name, const std::string& where,
                      double lo, double hi, double fallback) {
  const auto v = h5::read_double_attr(o, name);
  return v ? whole_in_range(*v, lo, hi, name, where) : fallback;
}

constexpr double kIntMax = std::numeric_limits<int>::max();

}  // namespace

namespace {

void write_model_contents(H5::H5File& file, const ModelFile& m) {
  h5::write_root_attributes(file, {"model", m.config_text, m.config_file, m.seed});
  const mlp::History& h = m.state.history;
  h5::write_attr(file.openGroup("/"), "epochs", static_cast<std::int64_t>(h.epochs()));

  H5::Group model = h5::ensure_group(file, "/model");
  const auto& s = m.spec;
  h5::write_attr(model, "inputs", static_cast<std::int64_t>(s.inputs));
  h5::write_attr(model, "outputs", static_cast<std::int64_t>(s.outputs()));
  h5::write_attr(model, "layers", static_cast<std::int64_t>(s.layers.size()));
  h5::write_attr(model, "loss", std::string(mlp::loss_name(s.loss)));
  h5::write_attr(model, "input_scale", m.input_scale);
  std::size_t offset = 0;
  int n_in = s.inputs;
  for (std::size_t i = 0; i < s.layers.size(); ++i) {
    const mlp::LayerSpec& l = s.layers[i];
    H5::Group g = h5::ensure_group(file, fmt::format("/model/layer_{}", i));
    h5::write_attr(g, "kind", "dense");
    h5::write_attr(g, "activation", std::string(mlp::activation_name(l.activation.kind)));
    h5::write_attr(g, "alpha", l.activation.alpha);
    if (l.activation.kind == mlp::ActivationKind::lif_rate) {
      const mlp::Activation& a = l.activation;
      h5::write_attr(g, "tau_m", a.tau_m);      // ms
      h5::write_attr(g, "tau_ref", a.tau_ref);  // ms
      h5::write_attr(g, "threshold", a.threshold);
      h5::write_attr(g, "amplitude", a.amplitude);  // 1/Hz
      h5::write_attr(g, "smoothing", a.smoothing);
      h5::write_attr(g, "noise", a.noise);
    }
    h5::write_attr(g, "dropout", l.dropout);
    h5::write_attr(g, "init", std::string(mlp::init_name(l.init)));
    h5::write_attr(g, "units", static_cast<std::int64_t>(l.units));
    const Eigen::Map<const mlp::Matrix<float>> W(m.params.data() + offset, l.units, n_in);
    const RowMajor Wr = W;  // (n_out, n_in) row-major, as h5py shows it
    h5::write_matrix(g, "W", Wr.data(), static_cast<std::size_t>(l.units),
                     static_cast<std::size_t>(n_in));
    offset += static_cast<std::size_t>(l.units) * n_in;
    h5::write_matrix(g, "b", m.params.data() + offset, static_cast<std::size_t>(l.units), 1);
    offset += static_cast<std::size_t>(l.units);
    n_in = l.units;
  }

  H5::Group tr = h5::ensure_group(file, "/training");
  h5::write_vector(tr, "train_loss", h.train_loss);
  h5::write_vector(tr, "val_loss", h.val_loss);
  h5::write_vector(tr, "test_loss", h.test_loss);
  h5::write_vector(tr, "train_acc", h.train_acc);
  h5::write_vector(tr, "val_acc", h.val_acc);
  h5::write_vector(tr, "test_acc", h.test_acc);
  h5::write_vector(tr, "seconds", h.seconds, "s");
  h5::write_vector(tr, "lr", h.lr);
  std::vector<double> gn;
  for (const auto& row : h.grad_norm) gn.insert(gn.end(), row.begin(), row.end());
  h5::write_matrix(tr, "grad_norm", gn.data(), h.grad_norm.size(), s.layers.size());
  h5::write_attr(tr, "best_epoch", static_cast<std::int64_t>(m.state.best_epoch));
  h5::write_attr(tr, "best_val_loss", m.state.best_val);
  h5::write_attr(tr, "bad_epochs", static_cast<std::int64_t>(m.state.bad_epochs));
  h5::write_attr(tr, "stopped", static_cast<std::int64_t>(m.state.stopped ? 1 : 0));

  H5::Group opt = h5::ensure_group(file, "/optimizer");
  const auto& o = m.state.optimizer;
  h5::write_attr(opt, "kind", o.spec.kind == mlp::OptimizerKind::sgd ? "sgd" : "adam");
  h5::write_attr(opt, "steps", static_cast<std::int64_t>(o.steps));
  write_floats(opt, "m", o.m);
  write_floats(opt, "v", o.v);
  write_floats(opt, "best_params", m.state.best_params);
}

}  // namespace

void write_model_file(const std::string& path, const ModelFile& m) {
  // Checkpoints are written the same way: a full disk is an OutputError, never a crash
  // or a model file with missing datasets renamed into place.
  h5::write_new_file(path, [&](H5::H5File& file) { write_model_contents(file, m); });
}

ModelFile read_model_file(const std::string& path, bool with_optimizer) {
  h5::quiet_errors();
  ModelFile m;
  try {
    H5::H5File file = h5::open_for_reading(path);
    H5::Group root = file.openGroup("/");
    const std::string kind = h5::read_string_attr(root, "kind").value_or("");
    if (kind != "model")
      throw DataError(
          fmt::format("{}: not a model file (kind '{}'; `ranvier train` writes "
                      "kind 'model')",
                      path, kind));
    m.config_text = h5::read_string_attr(root, "config").value_or("");
    m.config_file = h5::read_string_attr(root, "config_file").value_or("");
    // 2^64 itself is a double that does not fit, hence the bound just below it.
    m.seed = static_cast<std::uint64_t>(
        optional_count(root, "seed", path, 0, 18446744073709549568.0, 0));
    if (!file.nameExists("/model")) throw DataError(fmt::format("{}: no /model group", path));
    H5::Group model = file.openGroup("/model");
    const std::string where = path + ":/model";
    m.spec.inputs = static_cast<int>(need_count(model, "inputs", where, 1, kIntMax));
    const int layers = static_cast<int>(need_count(model, "layers", where, 1, 1'000'000));
    try {
      m.spec.loss = mlp::loss_from_name(need_string(model, "loss", where));
    } catch (const std::invalid_argument& e) {  // else it escaped as an internal error
      throw DataError(fmt::format("{}: {}", where, e.what()));
    }
    m.input_scale = h5::read_double_attr(model, "input_scale").value_or(1.0);
    int n_in = m.spec.inputs;
    for (int i = 0; i < layers; ++i) {
      const std::string name = fmt::format("/model/layer_{}", i);
      if (!file.nameExists(name)) throw DataError(fmt::format("{}: no {}", path, name));
      H5::Group g = file.openGroup(name);
      const std::string lw = path + ":" + name;
      mlp::LayerSpec l;
      const std::string act = need_string(g, "activation", lw);
      try {
        l.activation.kind = mlp::activation_from_name(act);
        l.init = mlp::init_from_name(h5::read_string_attr(g, "init").value_or("glorot_uniform"));
      } catch (const std::invalid_argument& e) {
        throw DataError(fmt::format("{}: {}", lw, e.what()));
      }
      l.activation.alpha = h5::read_double_attr(g, "alpha").value_or(0.01);
      if (l.activation.kind == mlp::ActivationKind::lif_rate) {
        mlp::Activation& a = l.activation;
        a.tau_m = need_double(g, "tau_m", lw);
        a.tau_ref = need_double(g, "tau_ref", lw);
        a.threshold = need_double(g, "threshold", lw);
        a.amplitude = need_double(g, "amplitude", lw);
        a.smoothing = h5::read_double_attr(g, "smoothing").value_or(0.0);
        a.noise = h5::read_double_attr(g, "noise").value_or(0.0);
        if (const std::string why = mlp::lif_rate_problem(a); !why.empty())
          throw DataError(fmt::format("{}: lif_rate: {}", lw, why));
      }
      l.dropout = h5::read_double_attr(g, "dropout").value_or(0.0);
      std::size_t r = 0, c = 0;
      const std::vector<double> W = h5::read_matrix(g, "W", r, c);
      if (static_cast<int>(c) != n_in)
        throw DataError(
            fmt::format("{}/W: {} columns, but the layer below has {} outputs", lw, c, n_in));
      l.units = static_cast<int>(r);
      const std::vector<double> b = h5::read_matrix(g, "b", r, c);
      if (static_cast<int>(r * c) != l.units)
        throw DataError(fmt::format("{}/b: {} values for {} units", lw, r * c, l.units));
      // W is stored row-major (n_out, n_in); the flat buffer is column-major.
      for (int col = 0; col < n_in; ++col)
        for (int row = 0; row < l.units; ++row)
          m.params.push_back(static_cast<float>(W[static_cast<std::size_t>(row) * n_in + col]));
      for (double x : b) m.params.push_back(static_cast<float>(x));
      m.spec.layers.push_back(l);
      n_in = l.units;
    }
    if (file.nameExists("/training")) {
      H5::Group tr = file.openGroup("/training");
      mlp::History& h = m.state.history;
      h.train_loss = h5::read_vector(tr, "train_loss");
      h.val_loss = h5::read_vector(tr, "val_loss");
      h.test_loss = h5::read_vector(tr, "test_loss");
      h.train_acc = h5::read_vector(tr, "train_acc");
      h.val_acc = h5::read_vector(tr, "val_acc");
      h.test_acc = h5::read_vector(tr, "test_acc");
      h.seconds = h5::read_vector(tr, "seconds");
      h.lr = h5::read_vector(tr, "lr");
      std::size_t r = 0, c = 0;
      const std::vector<double> gn = h5::read_matrix(tr, "grad_norm", r, c);
      for (std::size_t e = 0; e < r; ++e)
        h.grad_norm.emplace_back(gn.begin() + static_cast<std::ptrdiff_t>(e * c),
                                 gn.begin() + static_cast<std::ptrdiff_t>((e + 1) * c));
      // Every curve has one value per epoch: `ranvier train` indexes them all by epoch.
      const std::size_t epochs = h.train_loss.size();
      for (const auto* curve :
           {&h.val_loss, &h.test_loss, &h.train_acc, &h.val_acc, &h.test_acc, &h.seconds, &h.lr})
        if (curve->size() != epochs)
          throw DataError(
              fmt::format("{}:/training: the curves have different lengths ({} and {} "
                          "epochs)",
                          path, epochs, curve->size()));
      const std::string tw = path + ":/training";
      m.state.best_epoch = static_cast<int>(optional_count(tr, "best_epoch", tw, -1, kIntMax, -1));
      m.state.best_val = h5::read_double_attr(tr, "best_val_loss")
                             .value_or(std::numeric_limits<double>::infinity());
      m.state.bad_epochs = static_cast<int>(optional_count(tr, "bad_epochs", tw, 0, kIntMax, 0));
      m.state.stopped = h5::read_double_attr(tr, "stopped").value_or(0) != 0;
    }
    if (with_optimizer && file.nameExists("/optimizer")) {
      H5::Group opt = file.openGroup("/optimizer");
      m.state.optimizer.steps = static_cast<std::int64_t>(
          optional_count(opt, "steps", path + ":/optimizer", 0, 9.0e18, 0));
      m.state.optimizer.m = read_floats(opt, "m");
      m.state.optimizer.v = read_floats(opt, "v");
      m.state.best_params = read_floats(opt, "best_params");
      // Resuming copies these over the weights: one value per parameter, or none.
      for (const auto& [name, v] :
           {std::pair{"m", &m.state.optimizer.m}, std::pair{"v", &m.state.optimizer.v},
            std::pair{"best_params", &m.state.best_params}})
        if (!v->empty() && v->size() != m.params.size())
          throw DataError(fmt::format("{}:/optimizer/{}: {} values for {} parameters", path, name,
                                      v->size(), m.params.size()));
    }
    // What building the network would reject (no units, dropout outside [0, 1), a loss
    // that does not fit the last activation...) is the file's error, not an internal one.
    if (const std::string problem = mlp::check_spec(m.spec, /*training=*/false); !problem.empty())
      throw DataError(fmt::format("{}: {}", where, problem));
  } catch (const H5::Exception& e) {
    throw DataError(fmt::format("{}: cannot read the model file: {}", path, e.getDetailMsg()));
  }
  return m;
}

}  // namespace ranvier::io
