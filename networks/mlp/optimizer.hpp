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
    begin_step(net.params().size());
    for (const TensorInfo& t : net.tensors())
      update(net.params().data(), net.grads().data(), t.offset, t.offset + t.size(), t.is_weight,
             lr);
  }

  // The same in parts, for threads sharing a step: begin_step() once, then update() on
  // disjoint ranges [begin, end) of one tensor each (any split gives the same result:
  // every element is updated on its own).
  void begin_step(std::size_t n) {
    if (m.size() != n) m.assign(n, T(0));
    if (spec.kind == OptimizerKind::adam && v.size() != n) v.assign(n, T(0));
    ++steps;
  }
  void update(T* w, T* g, std::size_t begin, std::size_t end, bool is_weight, double lr) {
    const T wd = static_cast<T>(spec.weight_decay), l1 = static_cast<T>(spec.l1);
    if (is_weight && (wd != T(0) || l1 != T(0)))
      for (std::size_t i = begin; i < end; ++i)
        g[i] += wd * w[i] + l1 * static_cast<T>((w[i] > T(0)) - (w[i] < T(0)));
    const T a = static_cast<T>(lr);
    T* mm = m.data();
    if (spec.kind == OptimizerKind::sgd) {
      const T mu = static_cast<T>(spec.momentum);
      if (mu == T(0)) {
        for (std::size_t i = begin; i < end; ++i) w[i] -= a * g[i];
      } else {
        for (std::size_t i = begin; i < end; ++i) {
          mm[i] = mu * mm[i] + g[i];
          w[i] -= a * mm[i];
        }
      }
    } else {
      T* vv = v.data();
      const T b1 = static_cast<T>(spec.beta1), b2 = static_cast<T>(spec.beta2);
      const T c1 = static_cast<T>(1 - std::pow(spec.beta1, static_cast<double>(steps)));
      const T c2 = static_cast<T>(1 - std::pow(spec.beta2, static_cast<double>(steps)));
      const T eps = static_cast<T>(spec.eps);
      for (std::size_t i = begin; i < end; ++i) {
        mm[i] = b1 * mm[i] + (T(1) - b1) * g[i];
        vv[i] = b2 * vv[i] + (T(1) - b2) * g[i] * g[i];
        w[i] -= a * (mm[i] / c1) / (std::sqrt(vv[i] / c2) + eps);
      }
    }
  }
};

}  // namespace ranvier::mlp
