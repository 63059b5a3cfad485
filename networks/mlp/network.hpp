// A multilayer perceptron: a stack of layers, each a dense map (weights and bias), an
// activation and an optional inverted dropout, ending in a loss. Parameters are one flat
// buffer (and one gradient buffer of the same layout) seen through per-tensor views, so
// an optimizer step is one loop and a checkpoint is one array. The forward and backward
// passes are those of the autodiff graph the network builds once.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "networks/mlp/autodiff.hpp"

namespace ranvier::mlp {

enum class LossKind { mse, bce, cce, nll };
const std::vector<std::string>& loss_names();
std::string_view loss_name(LossKind k);
LossKind loss_from_name(std::string_view name);

enum class InitKind { glorot_uniform, glorot_normal, he_uniform, he_normal };
const std::vector<std::string>& init_names();
std::string_view init_name(InitKind k);
InitKind init_from_name(std::string_view name);

// One layer: y = dropout(f(W x + b)).
struct LayerSpec {
  int units = 1;          // n_out
  Activation activation;  // f
  double dropout = 0;     // probability of dropping an output [0, 1)
  InitKind init = InitKind::glorot_uniform;
};

struct NetworkSpec {
  int inputs = 1;  // n_in of the first layer
  std::vector<LayerSpec> layers;
  LossKind loss = LossKind::mse;
  int outputs() const { return layers.empty() ? inputs : layers.back().units; }
};

// Empty if `spec` can be trained; otherwise what is wrong (layer numbers from 0).
std::string check_spec(const NetworkSpec& spec, bool training);

// One parameter tensor's place in the flat buffers.
struct TensorInfo {
  std::string name;  // "layer_0/W"
  int layer = 0;
  bool is_weight = true;  // W (decayed) or b (not)
  std::size_t offset = 0;
  Eigen::Index rows = 0, cols = 0;
  std::size_t size() const { return static_cast<std::size_t>(rows * cols); }
};

template <class T>
class Network {
 public:
  // `training` false builds an inference-only network (allows heaviside and one_hot);
  // `input_grad` makes d/dx available (Jacobian, gradient checks of the inputs).
  explicit Network(NetworkSpec spec, bool training = true, bool input_grad = false);
  // A replica for data-parallel training: its own graph and gradient buffer, viewing the
  // parameters of `master` (which must outlive it and keep its parameter buffer).
  struct ReplicaTag {};
  Network(Network& master, ReplicaTag);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  const NetworkSpec& spec() const { return spec_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  std::vector<T>& params() { return params_; }
  const std::vector<T>& params() const { return params_; }
  std::vector<T>& grads() { return grads_; }
  MatrixMap<T> W(int layer) { return view(params_, tensors_[2 * layer]); }      // (n_out, n_in)
  MatrixMap<T> b(int layer) { return view(params_, tensors_[2 * layer + 1]); }  // (n_out, 1)
  MatrixMap<T> dW(int layer) { return view(grads_, tensors_[2 * layer]); }
  MatrixMap<T> db(int layer) { return view(grads_, tensors_[2 * layer + 1]); }
  static MatrixMap<T> view(std::vector<T>& buf, const TensorInfo& t) {
    return MatrixMap<T>(buf.data() + t.offset, t.rows, t.cols);
  }

  // Glorot/He, uniform/normal per layer as in the spec; biases zero.
  void init(std::uint64_t seed);
  // Copies parameters from a network of the same layout (e.g. float -> double).
  template <class U>
  void copy_params_from(const Network<U>& other) {
    for (std::size_t i = 0; i < params_.size(); ++i) params_[i] = static_cast<T>(other.params()[i]);
  }

  Graph<T>& graph() { return graph_; }
  NodeId input_node() const { return x_; }
  NodeId target_node() const { return t_; }
  NodeId pre_output_node() const { return pre_; }  // last layer before its activation
  NodeId output_node() const { return out_; }
  NodeId loss_node() const { return loss_; }

  // Loss and gradients (accumulated into grads()) of a batch X (n_in, n), Y (n_out, n).
  // Clears grads() first.
  T loss_and_grad(const Matrix<T>& X, const Matrix<T>& Y);
  // The same on raw column-major buffers: X (n_in, n), Y (n_out, n).
  T loss_and_grad(const T* X, const T* Y, Eigen::Index n);
  // Loss only (no dropout unless graph().training).
  T loss(const Matrix<T>& X, const Matrix<T>& Y);
  // Outputs (n_out, n) of a batch, evaluation mode.
  Matrix<T> predict(const Matrix<T>& X);
  // d output / d input at one input x (n_in, 1): (n_out, n_in). Needs input_grad.
  Matrix<T> jacobian(const Matrix<T>& x);

 private:
  NetworkSpec spec_;
  std::vector<TensorInfo> tensors_;
  std::vector<T> params_;  // all W and b, column-major, in layer order
  std::vector<T> grads_;   // same layout
  Graph<T> graph_;
  NodeId x_ = -1, t_ = -1, pre_ = -1, out_ = -1, loss_ = -1;
  NodeId sel_ = -1, sel_sum_ = -1;  // Jacobian rows: sum(out * e_k)
  Matrix<T> e_;                     // (n_out, 1) selector for the Jacobian

  void build(T* params, T* grads, bool training, bool input_grad);
  void clear_grads();  // grads() = 0
};

extern template class Network<float>;
extern template class Network<double>;

}  // namespace ranvier::mlp
