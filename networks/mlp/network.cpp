#include "networks/mlp/network.hpp"

#include <cstring>
#include <stdexcept>

namespace ranvier::mlp {

const std::vector<std::string>& loss_names() {
  static const std::vector<std::string> names = {"mse", "bce", "cce", "nll"};
  return names;
}
std::string_view loss_name(LossKind k) {
  return loss_names()[static_cast<std::size_t>(k)];
}
LossKind loss_from_name(std::string_view name) {
  for (std::size_t i = 0; i < loss_names().size(); ++i)
    if (loss_names()[i] == name) return static_cast<LossKind>(i);
  throw std::invalid_argument("unknown loss: " + std::string(name));
}

const std::vector<std::string>& init_names() {
  static const std::vector<std::string> names = {"glorot_uniform", "glorot_normal", "he_uniform",
                                                 "he_normal"};
  return names;
}
std::string_view init_name(InitKind k) {
  return init_names()[static_cast<std::size_t>(k)];
}
InitKind init_from_name(std::string_view name) {
  for (std::size_t i = 0; i < init_names().size(); ++i)
    if (init_names()[i] == name) return static_cast<InitKind>(i);
  throw std::invalid_argument("unknown init: " + std::string(name));
}

std::string check_spec(const NetworkSpec& spec, bool training) {
  if (spec.inputs < 1) return "the network needs at least one input";
  if (spec.layers.empty()) return "the network needs at least one layer";
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const LayerSpec& l = spec.layers[i];
    const std::string where = "layer " + std::to_string(i) + ": ";
    if (l.units < 1) return where + "units must be at least 1";
    if (!(l.dropout >= 0 && l.dropout < 1)) return where + "dropout must be in [0, 1)";
    if (l.activation.kind == ActivationKind::lif_rate) {
      const std::string why = lif_rate_problem(l.activation);
      if (!why.empty()) return where + "lif_rate: " + why;
    }
    if (training) {
      const std::string why = activation_untrainable_reason(l.activation.kind);
      if (!why.empty())
        return where + std::string(activation_name(l.activation.kind)) +
               " cannot be trained: " + why;
    }
  }
  const ActivationKind last = spec.layers.back().activation.kind;
  if (spec.loss == LossKind::nll && last != ActivationKind::log_softmax)
    return "loss nll expects log-probabilities: the last layer's activation must be log_softmax";
  if (spec.loss == LossKind::cce && last != ActivationKind::softmax)
    return "loss cce expects probabilities: the last layer's activation must be softmax";
  if (spec.loss == LossKind::bce && last != ActivationKind::logistic)
    return "loss bce expects outputs in (0, 1): the last layer's activation must be logistic";
  return {};
}

template <class T>
Network<T>::Network(NetworkSpec spec, bool training, bool input_grad) : spec_(std::move(spec)) {
  const std::string problem = check_spec(spec_, training);
  if (!problem.empty()) throw std::invalid_argument(problem);
  std::size_t offset = 0;
  int n_in = spec_.inputs;
  for (int i = 0; i < static_cast<int>(spec_.layers.size()); ++i) {
    const int n_out = spec_.layers[i].units;
    const std::string p = "layer_" + std::to_string(i) + "/";
    tensors_.push_back({p + "W", i, true, offset, n_out, n_in});
    offset += static_cast<std::size_t>(n_out) * n_in;
    tensors_.push_back({p + "b", i, false, offset, n_out, 1});
    offset += static_cast<std::size_t>(n_out);
    n_in = n_out;
  }
  params_.assign(offset, T(0));
  grads_.assign(offset, T(0));
  build(params_.data(), grads_.data(), training, input_grad);
}

template <class T>
Network<T>::Network(Network& master, ReplicaTag) : spec_(master.spec_), tensors_(master.tensors_) {
  grads_.assign(master.grads_.size(), T(0));
  build(master.params_.data(), grads_.data(), true, false);
}

template <class T>
void Network<T>::build(T* params, T* grads, bool training, bool input_grad) {
  Graph<T>& g = graph_;
  x_ = g.input("x", input_grad);
  t_ = g.input("t");
  NodeId h = x_;
  const int n_layers = static_cast<int>(spec_.layers.size());
  for (int i = 0; i < n_layers; ++i) {
    const TensorInfo& tw = tensors_[2 * i];
    const TensorInfo& tb = tensors_[2 * i + 1];
    const NodeId w =
        g.parameter(tw.name, params + tw.offset, grads + tw.offset, tw.rows, tw.cols, training);
    const NodeId bias =
        g.parameter(tb.name, params + tb.offset, grads + tb.offset, tb.rows, tb.cols, training);
    const NodeId z = g.add_bias(g.matmul(w, h), bias);
    if (i == n_layers - 1) {
      pre_ = z;
      out_ = g.activation(z, spec_.layers[i].activation);
      break;
    }
    h = g.activation(z, spec_.layers[i].activation);
    if (spec_.layers[i].dropout > 0) h = g.dropout(h, spec_.layers[i].dropout);
  }
  // The loss; softmax + cce and logistic + bce are fused for stability and speed.
  switch (spec_.loss) {
    case LossKind::mse:
      loss_ = g.mse(out_, t_);
      break;
    case LossKind::bce:
      loss_ = g.logistic_bce(pre_, t_);
      break;
    case LossKind::cce:
      loss_ = g.softmax_cce(pre_, t_);
      break;
    case LossKind::nll:
      loss_ = g.nll(out_, t_);
      break;
  }
  if (input_grad) {
    sel_ = g.input("e_k");
    sel_sum_ = g.sum(g.mul(out_, sel_));
  }
}

template <class T>
void Network<T>::init(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (const TensorInfo& t : tensors_) {
    T* p = params_.data() + t.offset;
    if (!t.is_weight) {
      std::fill_n(p, t.size(), T(0));
      continue;
    }
    const double fan_in = static_cast<double>(t.cols), fan_out = static_cast<double>(t.rows);
    const InitKind kind = spec_.layers[t.layer].init;
    const bool glorot = kind == InitKind::glorot_uniform || kind == InitKind::glorot_normal;
    const bool uniform = kind == InitKind::glorot_uniform || kind == InitKind::he_uniform;
    // variance 2 / (fan_in + fan_out) (Glorot) or 2 / fan_in (He)
    const double var = glorot ? 2.0 / (fan_in + fan_out) : 2.0 / fan_in;
    if (uniform) {
      std::uniform_real_distribution<double> d(-std::sqrt(3 * var), std::sqrt(3 * var));
      for (std::size_t i = 0; i < t.size(); ++i) p[i] = static_cast<T>(d(rng));
    } else {
      std::normal_distribution<double> d(0.0, std::sqrt(var));
      for (std::size_t i = 0; i < t.size(); ++i) p[i] = static_cast<T>(d(rng));
    }
  }
}

template <class T>
T Network<T>::loss_and_grad(const Matrix<T>& X, const Matrix<T>& Y) {
  graph_.bind(x_, X.data(), X.rows(), X.cols());
  graph_.bind(t_, Y.data(), Y.rows(), Y.cols());
  graph_.forward(loss_);
  clear_grads();
  graph_.backward(loss_);
  return graph_.scalar(loss_);
}

template <class T>
T Network<T>::loss_and_grad(const T* X, const T* Y, Eigen::Index n) {
  graph_.bind(x_, X, spec_.inputs, n);
  graph_.bind(t_, Y, spec_.outputs(), n);
  graph_.forward(loss_);
  clear_grads();
  graph_.backward(loss_);
  return graph_.scalar(loss_);
}

// All bits zero is +0 in IEEE floats: one memset instead of an element loop (the loop
// was 7% of the instructions of a training step).
template <class T>
void Network<T>::clear_grads() {
  std::memset(grads_.data(), 0, grads_.size() * sizeof(T));
}

template <class T>
T Network<T>::loss(const Matrix<T>& X, const Matrix<T>& Y) {
  graph_.bind(x_, X.data(), X.rows(), X.cols());
  graph_.bind(t_, Y.data(), Y.rows(), Y.cols());
  graph_.forward(loss_);
  return graph_.scalar(loss_);
}

template <class T>
Matrix<T> Network<T>::predict(const Matrix<T>& X) {
  const bool was = graph_.training;
  graph_.training = false;
  graph_.bind(x_, X.data(), X.rows(), X.cols());
  graph_.forward(out_);
  graph_.training = was;
  return graph_.value(out_);
}

template <class T>
Matrix<T> Network<T>::jacobian(const Matrix<T>& x) {
  if (sel_ < 0) throw std::logic_error("jacobian: network built without input_grad");
  const bool was = graph_.training;
  graph_.training = false;
  graph_.bind(x_, x.data(), x.rows(), 1);
  const int n_out = spec_.outputs();
  e_ = Matrix<T>::Zero(n_out, 1);
  graph_.bind(sel_, e_.data(), n_out, 1);
  Matrix<T> J(n_out, x.rows());
  for (int k = 0; k < n_out; ++k) {
    e_.setZero();
    e_(k, 0) = T(1);
    graph_.forward(sel_sum_);
    graph_.backward(sel_sum_);
    J.row(k) = graph_.grad(x_).col(0).transpose();
  }
  std::fill(grads_.begin(), grads_.end(), T(0));  // parameter gradients were a by-product
  graph_.training = was;
  return J;
}

template class Network<float>;
template class Network<double>;

}  // namespace ranvier::mlp
