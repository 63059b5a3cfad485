// The training config of `ranvier train`, `eval` and `gradcheck` (schema in
// configs/training.md): data source, network, loss, optimizer, training options. Every
// mapping rejects unknown keys; names are checked choices; problems are ConfigErrors
// with file:line:column.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "networks/mlp/data.hpp"
#include "networks/mlp/network.hpp"
#include "networks/mlp/optimizer.hpp"
#include "networks/mlp/train.hpp"
#include "tools/io/config.hpp"

namespace ranvier::io {

struct DataConfig {
  std::string source;  // xor | discrete_mapping | function | idx | csv | hdf5
  // discrete_mapping
  int classes = 3, features = 6, samples_per_class = 100, test_samples_per_class = 100;
  double noise = 0.2;
  std::uint64_t prototype_seed = 1;
  // function
  std::string function = "sin";
  int train_samples = 50, test_samples = 200;
  double test_noise = 0, x_min = -1, x_max = 1;
  bool grid = false;
  // files: idx (images + labels), csv / hdf5 (train + test)
  std::string train_images, train_labels, test_images, test_labels;
  std::string train, test;
  bool header = false;
  char delimiter = ',';
  std::vector<int> feature_columns, target_columns;
  std::string x = "x", y = "y";  // hdf5 dataset names
  bool labels = true;            // targets are class labels (else values)
  int limit_train = 0, limit_test = 0;
  double scale = 1;             // inputs multiplied by this
  double validation_split = 0;  // random part of the training set held out
};

struct TrainConfig {
  std::string file, text;  // config file and full text after overrides
  std::uint64_t seed = 1;
  std::string output;  // optional default for -o
  DataConfig data;
  mlp::NetworkSpec network;
  bool inputs_given = false;
  std::string inputs_where, outputs_where;  // file:line:column for size mismatches
  mlp::OptimizerSpec optimizer;
  mlp::TrainOptions training;
};

TrainConfig parse_train_config(const ConfigDocument& doc);

struct TrainData {
  mlp::Dataset train, val, test;
};
// Loads or generates the data of `cfg` (DataError for bad files) and splits off the
// validation set; checks the network's input and output sizes against it (ConfigError).
TrainData load_train_data(TrainConfig& cfg);
// Network sizes against a data set: a ConfigError naming both sizes when they differ.
void check_network_matches(const TrainConfig& cfg, const mlp::Dataset& d);

}  // namespace ranvier::io
