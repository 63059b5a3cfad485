// The model file of `ranvier train`: one HDF5 file per model, written atomically.
//   /                    attributes: program, kind="model", config (YAML text), config_file,
//                        seed, created; epochs (done)
//   /model               attributes: inputs, outputs, layers, loss, input_scale
//   /model/layer_<i>/W   (n_out, n_in) float32, row-major as h5py reads it
//   /model/layer_<i>/b   (n_out) float32
//                        attributes: kind="dense", activation, alpha, dropout, init, units
//   /training/           per epoch: train_loss, val_loss, test_loss, train_acc, val_acc,
//                        test_acc, seconds, lr; grad_norm (epochs, layers): mean ||dW||
//                        attributes: best_epoch, best_val_loss, bad_epochs, stopped
//   /optimizer/          what --resume needs: attributes kind, steps; datasets m, v
//                        (moments, flat parameter layout), best_params (early stopping)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "networks/mlp/network.hpp"
#include "networks/mlp/train.hpp"

namespace ranvier::io {

struct ModelFile {
  mlp::NetworkSpec spec;
  std::vector<float> params;  // flat layout of mlp::Network (column-major W, then b)
  mlp::TrainState state;      // curves, optimizer moments, early-stopping state
  double input_scale = 1;     // inputs are multiplied by this before the network
  std::string config_text, config_file;
  std::uint64_t seed = 0;
};

// Writes `m` to `path` (the caller makes it atomic with io::OutputFile's temp_path()).
void write_model_file(const std::string& path, const ModelFile& m);
// Reads a model file; DataError naming the file and what is missing or wrong. Without
// `with_optimizer` the optimizer state (three more copies of the weights, needed only to
// resume training) is left unread.
ModelFile read_model_file(const std::string& path, bool with_optimizer = true);

}  // namespace ranvier::io
