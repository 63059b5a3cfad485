// Activation functions of the rate MLP: forward y = f(x) and backward dx += f'(x) dy,
// applied column by column to a (units, batch) matrix. Element-wise functions compute
// their derivative from x and/or y; softmax and log_softmax act on a whole column.
//
// An activation is a kind plus parameters (leaky_relu's slope today; the LIF rate curve
// of models/lif_rate.hpp will add its own parameters here), so a parameterised function
// needs no change in the layers, the graph or the model file beyond its own entry.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

namespace ranvier::mlp {

enum class ActivationKind {
  identity,
  logistic,
  tanh,
  relu,
  leaky_relu,
  softsign,
  softplus,
  softmax,
  log_softmax,
  heaviside,  // inference only: its derivative is zero almost everywhere
  one_hot,    // inference only: argmax of each column as a one-hot vector
};

struct Activation {
  ActivationKind kind = ActivationKind::identity;
  double alpha = 0.01;  // leaky_relu: slope for x < 0 [1]
};

// Names as written in configs and model files ("relu", "log_softmax", ...).
const std::vector<std::string>& activation_names();
std::string_view activation_name(ActivationKind k);
// Throws std::invalid_argument for an unknown name (the config layer checks names first).
ActivationKind activation_from_name(std::string_view name);
// Empty if `k` can be trained through; otherwise the reason it cannot.
std::string activation_untrainable_reason(ActivationKind k);

// y = f(x), both (units, batch). y may not alias x.
template <class T, class MatX, class MatY>
void activation_forward(const Activation& a, const MatX& x, MatY& y) {
  using std::exp, std::log, std::log1p, std::abs, std::max;
  const T alpha = static_cast<T>(a.alpha);
  switch (a.kind) {
    case ActivationKind::identity:
      y = x;
      break;
    case ActivationKind::logistic:
      y = (T(1) / (T(1) + (-x.array()).exp())).matrix();
      break;
    case ActivationKind::tanh:
      y = x.array().tanh().matrix();
      break;
    case ActivationKind::relu:
      y = x.array().max(T(0)).matrix();
      break;
    case ActivationKind::leaky_relu:
      y = (x.array() > T(0)).select(x.array(), alpha * x.array()).matrix();
      break;
    case ActivationKind::softsign:
      y = (x.array() / (T(1) + x.array().abs())).matrix();
      break;
    case ActivationKind::softplus:
      // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), without overflow for large |x|
      y = (x.array().max(T(0)) + (-x.array().abs()).exp().log1p()).matrix();
      break;
    case ActivationKind::softmax:
      for (Eigen::Index j = 0; j < x.cols(); ++j) {
        const T m = x.col(j).maxCoeff();
        y.col(j) = (x.col(j).array() - m).exp().matrix();
        y.col(j) /= y.col(j).sum();
      }
      break;
    case ActivationKind::log_softmax:
      for (Eigen::Index j = 0; j < x.cols(); ++j) {
        const T m = x.col(j).maxCoeff();
        const T lse = m + log((x.col(j).array() - m).exp().sum());
        y.col(j) = (x.col(j).array() - lse).matrix();
      }
      break;
    case ActivationKind::heaviside:
      y = (x.array() > T(0)).select(T(1), T(0) * x.array()).matrix();
      break;
    case ActivationKind::one_hot:
      for (Eigen::Index j = 0; j < x.cols(); ++j) {
        Eigen::Index k = 0;
        x.col(j).maxCoeff(&k);
        y.col(j).setZero();
        y(k, j) = T(1);
      }
      break;
  }
}

// dx += f'(x) * dy (a Jacobian-vector product for softmax and log_softmax).
template <class T, class MatX, class MatY, class MatDY, class MatDX>
void activation_backward(const Activation& a, const MatX& x, const MatY& y, const MatDY& dy,
                         MatDX& dx) {
  const T alpha = static_cast<T>(a.alpha);
  switch (a.kind) {
    case ActivationKind::identity:
      dx += dy;
      break;
    case ActivationKind::logistic:
      dx.array() += dy.array() * y.array() * (T(1) - y.array());
      break;
    case ActivationKind::tanh:
      dx.array() += dy.array() * (T(1) - y.array().square());
      break;
    case ActivationKind::relu:
      dx.array() += (x.array() > T(0)).select(dy.array(), T(0) * dy.array());
      break;
    case ActivationKind::leaky_relu:
      dx.array() += (x.array() > T(0)).select(dy.array(), alpha * dy.array());
      break;
    case ActivationKind::softsign:
      dx.array() += dy.array() / (T(1) + x.array().abs()).square();
      break;
    case ActivationKind::softplus:
      dx.array() += dy.array() / (T(1) + (-x.array()).exp());
      break;
    case ActivationKind::softmax:
      // dx = y * (dy - <dy, y>) per column
      for (Eigen::Index j = 0; j < x.cols(); ++j) {
        const T s = dy.col(j).dot(y.col(j));
        dx.col(j).array() += y.col(j).array() * (dy.col(j).array() - s);
      }
      break;
    case ActivationKind::log_softmax:
      // dx = dy - softmax(x) * sum(dy) per column, softmax(x) = exp(y)
      for (Eigen::Index j = 0; j < x.cols(); ++j) {
        const T s = dy.col(j).sum();
        dx.col(j).array() += dy.col(j).array() - y.col(j).array().exp() * s;
      }
      break;
    case ActivationKind::heaviside:
    case ActivationKind::one_hot:
      // Refused at graph construction when gradients are needed; nothing flows through.
      break;
  }
}

}  // namespace ranvier::mlp
