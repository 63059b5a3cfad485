// Optimizers over the flat parameter buffer of a Network: mini-batch gradient descent
// with (optional) momentum, and Adam; L2 weight decay and L1 penalties on the weights
// (never the biases); a learning rate per epoch from a constant, step or cosine schedule.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "networks/mlp/network.hpp"

namespace ranvier::mlp {

enum class OptimizerKind { sgd, adam };
enum class ScheduleKind { constant, step, cosine };

struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::sgd;
  double lr = 0.1;          // learning rate at epoch 0
  double momentum = 0;      // sgd: v = momentum v + g; w -= lr v (PyTorch's form)
  double beta1 = 0.9;       // adam: decay of the first moment
  double beta2 = 0.999;     // adam: decay of the second moment
  double eps = 1e-8;        // adam: added to sqrt(v)
  double weight_decay = 0;  // L2: adds weight_decay * W to dW (penalty wd/2 ||W||^2)
  double l1 = 0;            // L1: adds l1 * sign(W) to dW (penalty l1 |W|)
  ScheduleKind schedule = ScheduleKind::constant;
  int step_epochs = 10;  // step: multiply lr by gamma every step_epochs epochs
  double gamma = 0.1;    // step: factor
  double lr_min = 0;     // cosine: lr at the last epoch
  int total_epochs = 1;  // cosine: length of the half period
};

// Learning rate of epoch `epoch` (0-based).
inline double learning_rate(const OptimizerSpec& s, int epoch) {
  switch (s.schedule) {
    case ScheduleKind::constant:
      return s.lr;
    case ScheduleKind::step:
      return s.lr * std::pow(s.gamma, epoch / std::max(1, s.step_epochs));
    case ScheduleKind::cosine: {
      const double f = std::min(1.0, static_cast<double>(epoch) / std::max(1, s.total_epochs));
      return s.lr_min + 0.5 * (s.lr - s.lr_min) * (1 + std::cos(std::numbers::pi * f));
    }
  }
  return s.lr;
}

template <class T>
struct Optimizer {
  OptimizerSpec spec;
  std::vector<T> m;        // sgd: velocity; adam: first moment (params layout)
  std::vector<T> v;        // adam: second moment
  std::int64_t steps = 0;  // updates done (adam's bias correction)

  // One update of net.params() from net.grads() with learning rate `lr`. The penalties
  // are added to the gradients of the weights first (so grads() include them after).
  void step(Network<T>& net, double lr) {
    std::vector<T>& w = net.params();
    std::vector<T>& g = net.grads();
    if (m.size() != w.size()) m.assign(w.size(), T(0));
    if (spec.kind == OptimizerKind::adam && v.size() != w.size()) v.assign(w.size(), T(0));
    ++steps;
    const T wd = static_cast<T>(spec.weight_decay), l1 = static_cast<T>(spec.l1);
    for (const TensorInfo& t : net.tensors()) {
      if (!t.is_weight || (wd == T(0) && l1 == T(0))) continue;
      T* pw = w.data() + t.offset;
      T* pg = g.data() + t.offset;
      for (std::size_t i = 0; i < t.size(); ++i)
        pg[i] += wd * pw[i] + l1 * static_cast<T>((pw[i] > T(0)) - (pw[i] < T(0)));
    }
    const std::size_t n = w.size();
    const T a = static_cast<T>(lr);
    if (spec.kind == OptimizerKind::sgd) {
      const T mu = static_cast<T>(spec.momentum);
      if (mu == T(0)) {
        for (std::size_t i = 0; i < n; ++i) w[i] -= a * g[i];
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          m[i] = mu * m[i] + g[i];
          w[i] -= a * m[i];
        }
      }
    } else {
      const T b1 = static_cast<T>(spec.beta1), b2 = static_cast<T>(spec.beta2);
      const T c1 = static_cast<T>(1 - std::pow(spec.beta1, static_cast<double>(steps)));
      const T c2 = static_cast<T>(1 - std::pow(spec.beta2, static_cast<double>(steps)));
      const T eps = static_cast<T>(spec.eps);
      for (std::size_t i = 0; i < n; ++i) {
        m[i] = b1 * m[i] + (T(1) - b1) * g[i];
        v[i] = b2 * v[i] + (T(1) - b2) * g[i] * g[i];
        w[i] -= a * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
      }
    }
  }
};

}  // namespace ranvier::mlp
