#include "tools/io/train_config.hpp"

#include <cmath>

#include <fmt/format.h>

#include "tools/io/datasets.hpp"
#include "tools/io/errors.hpp"

namespace ranvier::io {

namespace {

const std::vector<std::string> kSources = {"xor", "discrete_mapping", "function", "idx", "csv",
                                           "hdf5"};

double positive(const ConfigNode& n, const char* what) {
  const double v = n.as_double();
  if (!(v > 0)) n.fail(fmt::format("{} must be positive, not {}", what, v));
  return v;
}

double non_negative(const ConfigNode& n, const char* what) {
  const double v = n.as_double();
  if (!(v >= 0)) n.fail(fmt::format("{} must be zero or positive, not {}", what, v));
  return v;
}

double positive_quantity(const ConfigNode& n, const char* what) {
  const double v = n.as_quantity(models::Quantity::time);
  if (!(v > 0)) n.fail(fmt::format("{} must be positive, not {} ms", what, v));
  return v;
}

std::vector<int> columns(const ConfigNode& n) {
  std::vector<int> c;
  for (const ConfigNode& item : n.as_list()) c.push_back(static_cast<int>(item.as_int(0, 1 << 20)));
  return c;
}

void read_data(const ConfigNode& node, DataConfig& d) {
  d.source = node.at("source").as_choice(kSources);
  std::vector<std::string> keys = {"source", "validation_split", "scale"};
  auto allow = [&](std::initializer_list<const char*> more) {
    for (const char* k : more) keys.emplace_back(k);
  };
  if (d.source == "discrete_mapping")
    allow({"classes", "features", "samples_per_class", "test_samples_per_class", "noise",
           "prototype_seed"});
  if (d.source == "function")
    allow({"function", "train_samples", "test_samples", "noise", "test_noise", "x_min", "x_max",
           "grid"});
  if (d.source == "idx")
    allow({"train_images", "train_labels", "test_images", "test_labels", "classes", "limit_train",
           "limit_test"});
  if (d.source == "csv" || d.source == "hdf5")
    allow({"train", "test", "targets_are", "classes", "limit_train", "limit_test"});
  if (d.source == "csv") allow({"header", "delimiter", "features", "targets"});
  if (d.source == "hdf5") allow({"x", "y"});
  node.expect_keys(keys);

  if (auto v = node.find("validation_split")) {
    d.validation_split = v->as_double();
    if (!(d.validation_split >= 0 && d.validation_split < 1))
      v->fail(
          fmt::format("validation_split is the held-out fraction of the training set, in "
                      "[0, 1), not {}",
                      d.validation_split));
  }
  if (auto v = node.find("scale")) d.scale = positive(*v, "scale");
  if (auto v = node.find("classes"))
    d.classes = static_cast<int>(v->as_int(2, 1 << 20));
  else if (d.source == "idx")
    d.classes = 10;
  else if (d.source == "csv" || d.source == "hdf5")
    d.classes = 0;
  if (auto v = node.find("features")) {
    if (d.source == "csv")
      d.feature_columns = columns(*v);
    else
      d.features = static_cast<int>(v->as_int(1, 1 << 20));
  }
  if (auto v = node.find("samples_per_class"))
    d.samples_per_class = static_cast<int>(v->as_int(1, 1 << 24));
  if (auto v = node.find("test_samples_per_class"))
    d.test_samples_per_class = static_cast<int>(v->as_int(0, 1 << 24));
  if (auto v = node.find("noise")) d.noise = non_negative(*v, "noise");
  if (auto v = node.find("prototype_seed"))
    d.prototype_seed = static_cast<std::uint64_t>(v->as_int(0, INT64_MAX));
  if (auto v = node.find("function")) d.function = v->as_choice(mlp::function_names());
  if (auto v = node.find("train_samples"))
    d.train_samples = static_cast<int>(v->as_int(1, 1 << 24));
  if (auto v = node.find("test_samples")) d.test_samples = static_cast<int>(v->as_int(0, 1 << 24));
  if (auto v = node.find("test_noise")) d.test_noise = non_negative(*v, "test_noise");
  if (auto v = node.find("x_min")) d.x_min = v->as_double();
  if (auto v = node.find("x_max")) d.x_max = v->as_double();
  if (d.source == "function" && !(d.x_max > d.x_min))
    node.fail(fmt::format("x_max ({}) must be above x_min ({})", d.x_max, d.x_min));
  if (auto v = node.find("grid")) d.grid = v->as_bool();
  if (d.source == "idx") {
    d.train_images = node.at("train_images").as_string();
    d.train_labels = node.at("train_labels").as_string();
    if (auto v = node.find("test_images")) d.test_images = v->as_string();
    if (auto v = node.find("test_labels")) d.test_labels = v->as_string();
    if (d.test_images.empty() != d.test_labels.empty())
      node.fail("give both test_images and test_labels, or neither");
  }
  if (d.source == "csv" || d.source == "hdf5") {
    d.train = node.at("train").as_string();
    if (auto v = node.find("test")) d.test = v->as_string();
    if (auto v = node.find("targets_are"))
      d.labels = v->as_choice({"labels", "values"}) == "labels";
  }
  if (auto v = node.find("limit_train")) d.limit_train = static_cast<int>(v->as_int(0, INT32_MAX));
  if (auto v = node.find("limit_test")) d.limit_test = static_cast<int>(v->as_int(0, INT32_MAX));
  if (auto v = node.find("header")) d.header = v->as_bool();
  if (auto v = node.find("delimiter")) {
    const std::string s = v->as_string();
    if (s.size() != 1) v->fail("the delimiter is one character, e.g. ',' or ';'");
    d.delimiter = s[0];
  }
  if (auto v = node.find("targets")) d.target_columns = columns(*v);
  if (auto v = node.find("x")) d.x = v->as_string();
  if (auto v = node.find("y")) d.y = v->as_string();
}

// The parameters of a lif_rate layer (networks/mlp/activations.hpp); refused on others.
void read_lif_rate(const ConfigNode& l, mlp::Activation& a) {
  const bool lif = a.kind == mlp::ActivationKind::lif_rate;
  for (const char* key : {"tau_m", "tau_ref", "threshold", "amplitude", "smoothing", "noise"})
    if (auto v = l.find(key); v && !lif)
      v->fail(fmt::format("{} is a parameter of the lif_rate activation; this layer's is {}", key,
                          mlp::activation_name(a.kind)));
  if (!lif) return;
  if (auto v = l.find("tau_m")) a.tau_m = positive_quantity(*v, "tau_m");
  if (auto v = l.find("tau_ref")) {
    a.tau_ref = v->as_quantity(models::Quantity::time);
    if (!(a.tau_ref >= 0)) v->fail(fmt::format("tau_ref must be zero or positive, not {} ms", a.tau_ref));
  }
  if (auto v = l.find("threshold")) a.threshold = positive(*v, "threshold");
  if (auto v = l.find("amplitude")) a.amplitude = positive(*v, "amplitude");
  if (auto v = l.find("smoothing")) a.smoothing = non_negative(*v, "smoothing");
  if (auto v = l.find("noise")) a.noise = non_negative(*v, "noise");
}

void read_network(const ConfigNode& node, TrainConfig& cfg) {
  node.expect_keys({"inputs", "layers", "loss", "init"});
  mlp::NetworkSpec& s = cfg.network;
  if (auto v = node.find("inputs")) {
    s.inputs = static_cast<int>(v->as_int(1, 1 << 24));
    cfg.inputs_given = true;
    cfg.inputs_where = v->where();
  }
  mlp::InitKind default_init = mlp::InitKind::glorot_uniform;
  if (auto v = node.find("init"))
    default_init = mlp::init_from_name(v->as_choice(mlp::init_names()));
  const ConfigNode layers = node.at("layers");
  if (!layers.is_sequence() || layers.items().empty())
    layers.fail("layers is a list of layers, e.g. - {units: 10, activation: tanh}");
  for (const ConfigNode& l : layers.items()) {
    l.expect_keys({"units", "activation", "alpha", "dropout", "init", "tau_m", "tau_ref",
                   "threshold", "amplitude", "smoothing", "noise"});
    mlp::LayerSpec ls;
    ls.units = static_cast<int>(l.at("units").as_int(1, 1 << 24));
    ls.activation.kind =
        mlp::activation_from_name(l.at("activation").as_choice(mlp::activation_names()));
    const std::string why = mlp::activation_untrainable_reason(ls.activation.kind);
    if (!why.empty())
      l.at("activation")
          .fail(fmt::format("{} cannot be trained: {}", l.at("activation").as_string(), why));
    if (auto v = l.find("alpha")) {
      if (ls.activation.kind != mlp::ActivationKind::leaky_relu)
        v->fail("alpha is the negative slope of leaky_relu; this layer's activation has none");
      ls.activation.alpha = v->as_double();
    }
    read_lif_rate(l, ls.activation);
    if (auto v = l.find("dropout")) {
      ls.dropout = v->as_double();
      if (!(ls.dropout >= 0 && ls.dropout < 1))
        v->fail(fmt::format("dropout is the probability of dropping a unit, in [0, 1), not {}",
                            ls.dropout));
    }
    ls.init = default_init;
    if (auto v = l.find("init")) ls.init = mlp::init_from_name(v->as_choice(mlp::init_names()));
    s.layers.push_back(ls);
    cfg.outputs_where = l.at("units").where();
  }
  const ConfigNode loss = node.at("loss");
  s.loss = mlp::loss_from_name(loss.as_choice(mlp::loss_names()));
  const std::string problem = mlp::check_spec(s, true);
  if (!problem.empty()) loss.fail(problem);
}

void read_optimizer(const ConfigNode& node, mlp::OptimizerSpec& o, int epochs) {
  node.expect_keys(
      {"kind", "lr", "momentum", "beta1", "beta2", "eps", "weight_decay", "l1", "schedule"});
  o.kind = node.at("kind").as_choice({"sgd", "adam"}) == "sgd" ? mlp::OptimizerKind::sgd
                                                               : mlp::OptimizerKind::adam;
  o.lr = positive(node.at("lr"), "the learning rate lr");
  if (auto v = node.find("momentum")) {
    o.momentum = v->as_double();
    if (o.kind != mlp::OptimizerKind::sgd) v->fail("momentum belongs to sgd; adam has beta1");
    if (!(o.momentum >= 0 && o.momentum < 1)) v->fail("momentum must be in [0, 1)");
  }
  for (auto [key, ptr] : {std::pair{"beta1", &o.beta1}, std::pair{"beta2", &o.beta2}}) {
    if (auto v = node.find(key)) {
      if (o.kind != mlp::OptimizerKind::adam) v->fail(fmt::format("{} belongs to adam", key));
      *ptr = v->as_double();
      if (!(*ptr >= 0 && *ptr < 1)) v->fail(fmt::format("{} must be in [0, 1)", key));
    }
  }
  if (auto v = node.find("eps")) o.eps = positive(*v, "eps");
  if (auto v = node.find("weight_decay")) o.weight_decay = non_negative(*v, "weight_decay");
  if (auto v = node.find("l1")) o.l1 = non_negative(*v, "l1");
  o.total_epochs = epochs;
  if (auto sch = node.find("schedule")) {
    sch->expect_keys({"kind", "step_epochs", "gamma", "lr_min"});
    const std::string k = sch->at("kind").as_choice({"constant", "step", "cosine"});
    o.schedule = k == "constant" ? mlp::ScheduleKind::constant
                 : k == "step"   ? mlp::ScheduleKind::step
                                 : mlp::ScheduleKind::cosine;
    if (auto v = sch->find("step_epochs")) o.step_epochs = static_cast<int>(v->as_int(1, 1 << 20));
    if (auto v = sch->find("gamma")) o.gamma = positive(*v, "gamma");
    if (auto v = sch->find("lr_min")) o.lr_min = non_negative(*v, "lr_min");
  }
}

void read_training(const ConfigNode& node, mlp::TrainOptions& t) {
  node.expect_keys({"epochs", "batch", "threads", "early_stopping", "augment", "eval_batch"});
  t.epochs = static_cast<int>(node.at("epochs").as_int(1, 1 << 24));
  if (auto v = node.find("batch")) t.batch = static_cast<int>(v->as_int(1, 1 << 24));
  if (auto v = node.find("threads")) t.threads = static_cast<int>(v->as_int(1, 256));
  if (auto v = node.find("eval_batch")) t.eval_batch = static_cast<int>(v->as_int(1, 1 << 24));
  if (auto es = node.find("early_stopping")) {
    es->expect_keys({"patience", "min_delta", "restore_best"});
    t.patience = static_cast<int>(es->at("patience").as_int(0, 1 << 20));
    if (auto v = es->find("min_delta")) t.min_delta = non_negative(*v, "min_delta");
    if (auto v = es->find("restore_best")) t.restore_best = v->as_bool();
  }
  if (auto a = node.find("augment")) {
    a->expect_keys({"noise", "shift"});
    if (auto v = a->find("noise")) t.input_noise = non_negative(*v, "noise");
    if (auto v = a->find("shift")) t.max_shift = static_cast<int>(v->as_int(0, 64));
  }
}

}  // namespace

TrainConfig parse_train_config(const ConfigDocument& doc) {
  TrainConfig cfg;
  cfg.file = doc.file;
  cfg.text = doc.text;
  const ConfigNode& root = doc.root;
  root.expect_keys({"seed", "output", "data", "network", "optimizer", "training"});
  if (auto v = root.find("seed")) cfg.seed = static_cast<std::uint64_t>(v->as_int(0, INT64_MAX));
  if (auto v = root.find("output")) cfg.output = v->as_string();
  read_data(root.at("data"), cfg.data);
  read_network(root.at("network"), cfg);
  read_training(root.at("training"), cfg.training);
  cfg.training.seed = cfg.seed;
  read_optimizer(root.at("optimizer"), cfg.optimizer, cfg.training.epochs);
  return cfg;
}

void check_network_matches(const TrainConfig& cfg, const mlp::Dataset& d) {
  const mlp::NetworkSpec& s = cfg.network;
  if (s.inputs != d.features())
    throw ConfigError(cfg.inputs_where.empty() ? cfg.file : cfg.inputs_where, "network.inputs",
                      fmt::format("the network has {} inputs but the data ({}) has {} features "
                                  "per sample; set network.inputs to {}",
                                  s.inputs, cfg.data.source, d.features(), d.features()));
  if (s.outputs() != d.outputs())
    throw ConfigError(
        cfg.outputs_where, "network.layers",
        fmt::format("the last layer has {} units but the data ({}) has {} targets "
                    "per sample{}; give the last layer {} units",
                    s.outputs(), cfg.data.source, d.outputs(),
                    d.classification() ? fmt::format(" ({} classes)", d.n_classes) : std::string(),
                    d.outputs()));
}

TrainData load_train_data(TrainConfig& cfg) {
  const DataConfig& c = cfg.data;
  TrainData td;
  mlp::Dataset all;
  const int outputs = cfg.network.outputs();
  if (c.source == "xor") {
    all = mlp::xor_dataset();
    td.test = all;
  } else if (c.source == "discrete_mapping") {
    all = mlp::discrete_mapping(c.classes, c.features, c.samples_per_class, c.noise,
                                c.prototype_seed, mlp::mix_seed(cfg.seed, 0x7472, 0));
    if (c.test_samples_per_class > 0)
      td.test = mlp::discrete_mapping(c.classes, c.features, c.test_samples_per_class, c.noise,
                                      c.prototype_seed, mlp::mix_seed(cfg.seed, 0x7465, 0));
  } else if (c.source == "function") {
    all = mlp::function_samples(c.function, c.train_samples, c.noise, c.x_min, c.x_max, c.grid,
                                mlp::mix_seed(cfg.seed, 0x7472, 0));
    if (c.test_samples > 0)
      td.test = mlp::function_samples(c.function, c.test_samples, c.test_noise, c.x_min, c.x_max,
                                      true, mlp::mix_seed(cfg.seed, 0x7465, 0));
  } else if (c.source == "idx") {
    all = load_idx_dataset(c.train_images, c.train_labels, c.classes, 1.0, c.limit_train);
    if (!c.test_images.empty())
      td.test = load_idx_dataset(c.test_images, c.test_labels, c.classes, 1.0, c.limit_test);
  } else if (c.source == "csv") {
    CsvOptions o;
    o.delimiter = c.delimiter;
    o.header = c.header;
    o.features = c.feature_columns;
    o.targets = c.target_columns;
    o.labels = c.labels;
    o.classes = c.classes;
    o.outputs = outputs;
    all = load_csv_dataset(c.train, o);
    if (!c.test.empty()) td.test = load_csv_dataset(c.test, o);
  } else if (c.source == "hdf5") {
    H5DataOptions o;
    o.x = c.x;
    o.y = c.y;
    o.labels = c.labels;
    o.classes = c.classes;
    o.outputs = outputs;
    all = load_h5_dataset(c.train, o);
    if (!c.test.empty()) td.test = load_h5_dataset(c.test, o);
  }
  auto limit = [](mlp::Dataset& d, int n) {
    if (n > 0 && n < d.size()) {
      std::vector<int> idx(n);
      for (int i = 0; i < n; ++i) idx[i] = i;
      d = mlp::subset(d, idx);
    }
  };
  if (c.source == "csv" || c.source == "hdf5") {
    limit(all, c.limit_train);
    limit(td.test, c.limit_test);
  }
  if (c.scale != 1.0) {
    all.X *= static_cast<float>(c.scale);
    td.test.X *= static_cast<float>(c.scale);
  }
  if (!cfg.inputs_given) cfg.network.inputs = all.features();
  check_network_matches(cfg, all);
  if (td.test.size() > 0 && td.test.features() != all.features())
    throw DataError(fmt::format("the test set has {} features per sample, the training set {}",
                                td.test.features(), all.features()));
  auto [tr, val] = mlp::split_validation(all, c.validation_split, cfg.seed);
  td.train = std::move(tr);
  td.val = std::move(val);
  return td;
}

}  // namespace ranvier::io
