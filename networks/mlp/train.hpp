// The training loop: shuffled mini-batches (a new permutation every epoch), augmentation
// (input noise, small random shifts of images), an optimizer step per batch, evaluation
// on validation and test sets after every epoch, per-layer gradient norms, early
// stopping on the validation loss. Every random choice of epoch e comes from generators
// seeded by (seed, e), so resuming after epoch k gives the same model as not stopping.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "networks/mlp/data.hpp"
#include "networks/mlp/network.hpp"
#include "networks/mlp/optimizer.hpp"

namespace ranvier::mlp {

struct TrainOptions {
  int epochs = 10;           // total epochs (a resumed run continues up to this)
  int batch = 32;            // samples per mini-batch (the last one may be smaller)
  std::uint64_t seed = 1;    // shuffling, dropout, augmentation
  int threads = 1;           // Eigen/OpenMP threads for the matrix products
  int patience = 0;          // early stopping: epochs without improvement; 0 = off
  double min_delta = 0;      // early stopping: improvement that counts
  bool restore_best = true;  // early stopping: end with the weights of the best epoch
  double input_noise = 0;    // augmentation: Gaussian noise std added to inputs
  int max_shift = 0;         // augmentation: random image shift of up to this many pixels
  int eval_batch = 1000;     // samples per batch when evaluating
};

// Per-epoch curves (one entry per epoch done); NaN where not applicable (no validation
// set, regression has no accuracy).
struct History {
  std::vector<double> train_loss, train_acc, val_loss, val_acc, test_loss, test_acc;
  std::vector<double> seconds, lr;
  std::vector<std::vector<double>> grad_norm;  // [epoch][layer]: mean over batches of ||dW||
  int epochs() const { return static_cast<int>(train_loss.size()); }
};

// Everything a resumed run needs besides the weights.
struct TrainState {
  History history;
  Optimizer<float> optimizer;
  double best_val = std::numeric_limits<double>::infinity();
  int best_epoch = -1;
  int bad_epochs = 0;
  bool stopped = false;            // early stopping fired
  std::vector<float> best_params;  // weights at best_epoch (when early stopping is on)
};

struct BatchProgress {
  int epoch = 0, epochs = 0, batch = 0, batches = 0;
  double loss = 0, accuracy = 0;  // running means over the epoch so far
  double samples_per_second = 0, eta_seconds = 0;
};

struct TrainCallbacks {
  std::function<void(const BatchProgress&)> on_batch;
  // After each complete epoch, when the network and the state are those a resumed run
  // starts from (the place to write a checkpoint).
  std::function<void(int epoch, const History&)> on_epoch;
  // Polled after every batch (and before each epoch): true stops training there, e.g.
  // on Ctrl-C. The epoch in progress is abandoned (see TrainResult).
  std::function<bool()> should_stop;
};

// How train() ended. Unless `finished`, the epoch in progress was abandoned and the
// network and state were put back as they were after the last complete epoch, so they
// can be saved and resumed: the resumed run gives the weights of a run never stopped.
struct TrainResult {
  enum class End { finished, early_stopped, stop_requested, numerical_fault };
  End end = End::finished;
  int epoch = -1, batch = -1;  // stop_requested, numerical_fault: where (0-based)
  int layer = -1;              // numerical_fault: first layer with a non-finite tensor, -1 if none
  // numerical_fault: what was not finite ("the loss is nan", "the weight gradients of
  // layer 1 are not finite", ...)
  std::string fault;
};

struct Evaluation {
  double loss = 0;
  double accuracy = std::numeric_limits<double>::quiet_NaN();
  Eigen::MatrixXi confusion;  // (true class, predicted class), when asked for
};

// Loss and accuracy of `net` on `d` (evaluation mode: no dropout).
Evaluation evaluate(Network<float>& net, const Dataset& d, int batch = 1000,
                    bool confusion = false);
// Predicted class of each column of the outputs (argmax; 0/1 at 0.5 for one output).
std::vector<int> predicted_classes(const Eigen::Ref<const Matrix<float>>& out);

// Trains from epoch state.history.epochs() to opt.epochs - 1 (or an early stop, a stop
// request, a non-finite loss, gradient or weight: checked after every batch).
TrainResult train(Network<float>& net, TrainState& state, const Dataset& train_set,
                  const Dataset* val_set, const Dataset* test_set, const TrainOptions& opt,
                  const TrainCallbacks& cb = {});

// Sets the threads Eigen's products use (and OpenMP's default).
void set_threads(int threads);

}  // namespace ranvier::mlp
