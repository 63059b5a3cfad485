// The readers of Ranvier's HDF5 files, as the commands use them: a model file as
// `ranvier predict`/`eval` load it (read, build the network, run it), a data set as
// `ranvier train` with `source: hdf5`, and any result file as `ranvier info` prints it.
#pragma once

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "networks/mlp/network.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "tools/cli/commands.hpp"
#include "tools/io/datasets.hpp"
#include "tools/io/model_file.hpp"

namespace ranvier::fuzz {

struct H5ReaderChoices {
  bool labels = true;
  int classes = 0, outputs = 0;
};

inline void read_h5_like_the_commands(const std::string& path, const H5ReaderChoices& c) {
  expect_user_errors_only([&] {
    io::ModelFile m = io::read_model_file(path);
    // What predict does next: a network of the file's shape with the file's weights.
    mlp::Network<float> net(m.spec, /*training=*/false);
    if (m.params.size() != net.params().size()) __builtin_trap();  // reader let a mismatch through
    net.params() = m.params;
    if (static_cast<long>(m.spec.inputs) * 2 <= 1 << 16) {
      mlp::Matrix<float> X = mlp::Matrix<float>::Constant(m.spec.inputs, 2, 0.5f);
      (void)net.predict(X);
    }
  });
  expect_user_errors_only([&] {
    io::H5DataOptions opt;
    opt.labels = c.labels;
    opt.classes = c.classes;
    opt.outputs = c.outputs;
    (void)io::load_h5_dataset(path, opt);
  });
  expect_user_errors_only([&] {
    CLI::App app;
    cli::Context ctx;
    cli::add_info_commands(app, ctx);
    app.parse("info " + path);
  });
}

}  // namespace ranvier::fuzz
