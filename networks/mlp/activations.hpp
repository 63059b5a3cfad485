// Activation functions of the rate MLP: forward y = f(x) and backward dx += f'(x) dy,
// applied column by column to a (units, batch) matrix. Element-wise functions compute
// their derivative from x and/or y; softmax and log_softmax act on a whole column.
//
// An activation is a kind plus parameters (leaky_relu's slope; the LIF rate curve's
// neuron parameters), so a parameterised function needs no change in the layers, the
// graph or the model file beyond its own entry.
//
// lif_rate is the tuning curve of a LIF neuron, the same function (models/lif_rate.hpp)
// as the tuning curves of `ranvier tune` and the neurons of `ranvier spike-eval`:
//   y = amplitude * G(x),   G the steady-state rate [Hz] of a normalized LIF neuron
// (V_L = V_reset = 0, R = 1, V_th = threshold) whose input current is the pre-activation
// x = W h + b itself, so it fires when x > threshold. While smoothing (training, and the
// gradient checks) G is the soft LIF of Hunsberger & Eliasmith (2015) with sigma =
// smoothing; at inference it is the hard LIF the spiking neurons realise.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "models/lif_rate.hpp"

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
  lif_rate,   // amplitude * LIF rate G(x) (soft while smoothing); parameters below
};

struct Activation {
  ActivationKind kind = ActivationKind::identity;
  double alpha = 0.01;  // leaky_relu: slope for x < 0 [1]
  // lif_rate (checked by lif_rate_problem):
  double tau_m = 20.0;      // membrane time constant [ms], > 0
  double tau_ref = 2.0;     // refractory period [ms], >= 0
  double threshold = 1.0;   // V_th: the input x at which firing starts [units of x], > 0
  double amplitude = 0.01;  // output per Hz of rate [1/Hz], > 0 (0.01: 100 Hz -> 1)
  double smoothing = 0.05;  // soft-LIF sigma while training [units of x], >= 0 (0: hard)
  double noise = 0.0;       // training only: std of Gaussian noise added to y [units of y]
};

// The normalized LIF neuron of a lif_rate activation (V_L = V_reset = 0, R = 1).
models::LifRateParams lif_params(const Activation& a);
// Empty if the lif_rate parameters of `a` are valid; otherwise the first problem.
std::string lif_rate_problem(const Activation& a);

// Names as written in configs and model files ("relu", "log_softmax", ...).
const std::vector<std::string>& activation_names();
std::string_view activation_name(ActivationKind k);
// Throws std::invalid_argument for an unknown name (the config layer checks names first).
ActivationKind activation_from_name(std::string_view name);
// Empty if `k` can be trained through; otherwise the reason it cannot.
std::string activation_untrainable_reason(ActivationKind k);

// y = f(x), both (units, batch). y may not alias x. `smooth`: lif_rate uses its soft
// variant (the graph sets it while training; inference is hard).
template <class T, class MatX, class MatY>
void activation_forward(const Activation& a, const MatX& x, MatY& y, bool smooth = false) {
  using std::exp, std::log, std::log1p, std::abs, std::max;
  const T alpha = static_cast<T>(a.alpha);
  switch (a.kind) {
    case ActivationKind::lif_rate: {
      const models::LifRateParams p = lif_params(a);
      const bool soft = smooth && a.smoothing > 0;
      for (Eigen::Index j = 0; j < x.cols(); ++j)
        for (Eigen::Index i = 0; i < x.rows(); ++i) {
          const double J = static_cast<double>(x(i, j));
          const double G = soft ? models::lif_rate_soft(p, J, a.smoothing) : models::lif_rate(p, J);
          y(i, j) = static_cast<T>(a.amplitude * G);
        }
      break;
    }
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

// dx += f'(x) * dy (a Jacobian-vector product for softmax and log_softmax). `smooth` as
// in activation_forward: the derivative of the function the forward pass used.
template <class T, class MatX, class MatY, class MatDY, class MatDX>
void activation_backward(const Activation& a, const MatX& x, const MatY& y, const MatDY& dy,
                         MatDX& dx, bool smooth = false) {
  const T alpha = static_cast<T>(a.alpha);
  switch (a.kind) {
    case ActivationKind::lif_rate: {
      const models::LifRateParams p = lif_params(a);
      const bool soft = smooth && a.smoothing > 0;
      for (Eigen::Index j = 0; j < x.cols(); ++j)
        for (Eigen::Index i = 0; i < x.rows(); ++i) {
          const double J = static_cast<double>(x(i, j));
          const double dG = soft ? models::lif_rate_soft_derivative(p, J, a.smoothing)
                                 : models::lif_rate_derivative(p, J);
          dx(i, j) += static_cast<T>(a.amplitude * dG) * dy(i, j);
        }
      break;
    }
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
