// Fuzz target: well-formed HDF5 files whose contents come from the input, through every
// reader of Ranvier's HDF5 files (fuzz_h5_readers.hpp). libhdf5 parses these without
// trouble, so what gets tested is our own checking: missing groups, datasets and
// attributes, attributes of the wrong type or shape, datasets of any rank, size and type
// (including huge declared sizes with no storage), names that are almost right, and
// values such as NaN, infinities, negative or enormous counts.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <H5Cpp.h>

#include "tests/fuzz/fuzz_h5_readers.hpp"
#include "tools/io/h5.hpp"

namespace {

// Words the readers look for, so the fuzzer need not guess them byte by byte.
const std::vector<std::string> kWords = {
    "model",    "run",        "tuning",   "mse",        "bce",           "cce",
    "nll",      "identity",   "logistic", "tanh",       "relu",          "leaky_relu",
    "softsign", "softplus",   "softmax",  "log_softmax", "heaviside",    "one_hot",
    "glorot_uniform", "he_normal", "dense", "sgd",     "adam",          "",
    "x",        "y",          "mV",       "ms"};

double pick_double(FuzzedDataProvider& in) {
  static const double special[] = {0,    1,    2,     3,    -1,   0.5,  1e9, -1e9,  1e300,
                                   -1e300, 2147483648.0, 4294967296.0, 1e19, -2147483649.0,
                                   std::numeric_limits<double>::quiet_NaN(),
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity()};
  if (in.ConsumeBool()) return in.PickValueInArray(special);
  return in.ConsumeFloatingPoint<double>();
}

std::string pick_string(FuzzedDataProvider& in) {
  if (in.ConsumeBool()) return kWords[in.ConsumeIntegralInRange<std::size_t>(0, kWords.size() - 1)];
  return in.ConsumeRandomLengthString(16);
}

// An attribute of a type and shape chosen by the input, or none.
void put_attr(FuzzedDataProvider& in, const H5::H5Object& obj, const std::string& name,
              bool numeric_expected) {
  using namespace ranvier::io;
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: return;  // absent
    case 1: h5::write_attr(obj, name, pick_string(in)); return;
    case 2: h5::write_attr(obj, name, static_cast<std::int64_t>(pick_double(in) > 0 ? in.ConsumeIntegral<std::int64_t>() : in.ConsumeIntegralInRange<std::int64_t>(-2, 8))); return;
    case 3: {  // an array of doubles where one value is expected
      std::vector<double> v(in.ConsumeIntegralInRange<int>(0, 3));
      for (double& x : v) x = pick_double(in);
      h5::write_attr(obj, name, v);
      return;
    }
    case 4: {  // an array of variable-length strings where one is expected
      const hsize_t n = in.ConsumeIntegralInRange<int>(0, 3);
      H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
      H5::Attribute a = obj.createAttribute(name, type, H5::DataSpace(1, &n));
      std::vector<std::string> s(n);
      std::vector<const char*> p(n);
      for (hsize_t i = 0; i < n; ++i) p[i] = (s[i] = pick_string(in)).c_str();
      if (n) a.write(type, p.data());
      return;
    }
    case 5: {  // a fixed-length string
      const std::string s = pick_string(in);
      H5::StrType type(H5::PredType::C_S1, std::max<std::size_t>(1, s.size()));
      H5::Attribute a = obj.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
      a.write(type, s.empty() ? std::string(" ") : s);
      return;
    }
    default:  // the expected kind, most of the time
      if (numeric_expected)
        h5::write_attr(obj, name, in.ConsumeBool() ? pick_double(in)
                                                   : double(in.ConsumeIntegralInRange<int>(-1, 6)));
      else
        h5::write_attr(obj, name, pick_string(in));
  }
}

// A dataset of a rank, shape and type chosen by the input (or none, or a group of that name).
// `rows` and `cols`, when >= 0, are the shape a valid file would have; the input may
// keep them or not.
void put_dataset(FuzzedDataProvider& in, const H5::Group& g, const std::string& name, int rows,
                 int cols) {
  const int how = in.ConsumeIntegralInRange<int>(0, 9);
  if (how == 0) return;
  if (how == 1) {
    g.createGroup(name);
    return;
  }
  int rank = cols >= 0 ? 2 : 1;
  hsize_t dims[3] = {static_cast<hsize_t>(std::max(rows, 0)), static_cast<hsize_t>(std::max(cols, 0)), 1};
  if (rows < 0 || how == 2) {
    rank = in.ConsumeIntegralInRange<int>(0, 3);
    for (hsize_t& d : dims) d = in.ConsumeIntegralInRange<hsize_t>(0, 5);
  }
  if (how == 3) dims[0] = in.ConsumeBool() ? (hsize_t(1) << 31) : (hsize_t(1) << 40);  // huge, no storage
  hsize_t total = 1;
  for (int i = 0; i < rank; ++i) total *= dims[i];
  H5::DataSpace space = rank == 0 ? H5::DataSpace(H5S_SCALAR) : H5::DataSpace(rank, dims);
  H5::DSetCreatPropList props;
  if (how == 3) {  // chunked: declares the size without writing it (reads give the fill value)
    hsize_t chunk[3] = {1, 1, 1};
    props.setChunk(rank == 0 ? 1 : rank, chunk);
    if (rank == 0) {
      rank = 1;
      space = H5::DataSpace(1, dims);
    }
  }
  const int type = in.ConsumeIntegralInRange<int>(0, 4);
  if (type == 4) {  // strings where numbers are expected
    H5::StrType st(H5::PredType::C_S1, 4);
    H5::DataSet ds = g.createDataSet(name, st, space, props);
    return;
  }
  const H5::PredType& t = type == 0   ? H5::PredType::NATIVE_DOUBLE
                          : type == 1 ? H5::PredType::NATIVE_FLOAT
                          : type == 2 ? H5::PredType::NATIVE_INT32
                                      : H5::PredType::NATIVE_UINT8;
  H5::DataSet ds = g.createDataSet(name, t, space, props);
  if (how != 3 && total > 0 && total <= 4096) {
    std::vector<double> v(total);
    for (double& x : v) x = in.ConsumeBool() ? pick_double(in) : in.ConsumeIntegralInRange<int>(0, 3);
    // Conversion of NaN or huge values to an integer type is libhdf5's business (it
    // clips): write integers as integers.
    if (type >= 2)
      for (double& x : v) x = std::isfinite(x) ? std::fmod(std::trunc(x), 200.0) : 0;
    ds.write(v.data(), H5::PredType::NATIVE_DOUBLE);
  }
}

void build_file(FuzzedDataProvider& in, const std::string& path) {
  using namespace ranvier::io;
  H5::H5File file(path, H5F_ACC_TRUNC);
  H5::Group root = file.openGroup("/");
  put_attr(in, root, "kind", false);
  put_attr(in, root, "config", false);
  put_attr(in, root, "config_file", false);
  put_attr(in, root, "seed", true);
  put_attr(in, root, "program", false);
  const int layers = in.ConsumeIntegralInRange<int>(0, 3);
  const int inputs = in.ConsumeIntegralInRange<int>(0, 4);
  if (in.ConsumeBool()) {
    H5::Group model = file.createGroup("/model");
    put_attr(in, model, "inputs", true);
    put_attr(in, model, "layers", true);
    put_attr(in, model, "outputs", true);
    put_attr(in, model, "loss", false);
    put_attr(in, model, "input_scale", true);
    int n_in = inputs;
    for (int i = 0; i < layers + in.ConsumeIntegralInRange<int>(-1, 1); ++i) {
      if (i < 0) continue;
      const std::string name = "/model/layer_" + std::to_string(i);
      H5::Group g = file.createGroup(name);
      const int units = in.ConsumeIntegralInRange<int>(0, 4);
      put_attr(in, g, "activation", false);
      put_attr(in, g, "init", false);
      put_attr(in, g, "alpha", true);
      put_attr(in, g, "dropout", true);
      put_attr(in, g, "units", true);
      put_dataset(in, g, "W", units, n_in);
      put_dataset(in, g, "b", units, in.ConsumeBool() ? 1 : -1);
      n_in = units;
    }
  }
  if (in.ConsumeBool()) {
    H5::Group tr = file.createGroup("/training");
    const int epochs = in.ConsumeIntegralInRange<int>(0, 3);
    for (const char* name : {"train_loss", "val_loss", "test_loss", "train_acc", "val_acc",
                             "test_acc", "seconds", "lr"})
      put_dataset(in, tr, name, epochs, -1);
    put_dataset(in, tr, "grad_norm", epochs, layers);
    for (const char* name : {"best_epoch", "best_val_loss", "bad_epochs", "stopped"})
      put_attr(in, tr, name, true);
  }
  if (in.ConsumeBool()) {
    H5::Group opt = file.createGroup("/optimizer");
    put_attr(in, opt, "kind", false);
    put_attr(in, opt, "steps", true);
    const int n = in.ConsumeIntegralInRange<int>(0, 40);
    for (const char* name : {"m", "v", "best_params"}) put_dataset(in, opt, name, n, 1);
  }
  // A data set for `source: hdf5`: x (n, features), y labels (n) or values (n, outputs).
  const int n = in.ConsumeIntegralInRange<int>(0, 6);
  put_dataset(in, root, "x", n, in.ConsumeIntegralInRange<int>(0, 3));
  put_dataset(in, root, "y", n, in.ConsumeBool() ? -1 : in.ConsumeIntegralInRange<int>(0, 3));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  ranvier::fuzz::H5ReaderChoices c;
  c.labels = in.ConsumeBool();
  c.classes = in.ConsumeIntegralInRange<int>(0, 5);
  c.outputs = in.ConsumeIntegralInRange<int>(0, 3);
  const std::string path = ranvier::fuzz::scratch_file(nullptr, 0, ".h5");
  ranvier::io::h5::quiet_errors();
  try {
    build_file(in, path);
  } catch (const H5::Exception& e) {
    return 0;  // a combination libhdf5 refuses to write (not what is tested here)
  }
  ranvier::fuzz::read_h5_like_the_commands(path, c);
  return 0;
}
