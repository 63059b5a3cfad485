// Training results of the MLP engine: XOR, the discrete mapping, overfitting with and
// without regularisation, determinism and resuming.
#include <doctest/doctest.h>

#include <cstdio>

#include "networks/mlp/train.hpp"

using namespace ranvier::mlp;

namespace {

// The recipe of configs/xor.yaml: 2-2-1 logistic, bce, SGD with momentum, full batch.
NetworkSpec xor_spec() {
  NetworkSpec s;
  s.inputs = 2;
  s.layers = {{2, {ActivationKind::logistic}, 0, InitKind::glorot_uniform},
              {1, {ActivationKind::logistic}, 0, InitKind::glorot_uniform}};
  s.loss = LossKind::bce;
  return s;
}

// The recipe of configs/discrete_mapping.yaml: 6-10-5-3 as in the course.
NetworkSpec mapping_spec() {
  NetworkSpec s;
  s.inputs = 6;
  s.layers = {{10, {ActivationKind::tanh}, 0, InitKind::glorot_uniform},
              {5, {ActivationKind::tanh}, 0, InitKind::glorot_uniform},
              {3, {ActivationKind::softmax}, 0, InitKind::glorot_uniform}};
  s.loss = LossKind::cce;
  return s;
}

}  // namespace

TEST_CASE("XOR reaches 100% accuracy from the default seed") {
  const Dataset d = xor_dataset();
  Network<float> net(xor_spec());
  net.init(1);
  TrainState st;
  st.optimizer.spec.lr = 0.5;
  st.optimizer.spec.momentum = 0.9;
  TrainOptions opt;
  opt.epochs = 1000;
  opt.batch = 4;
  opt.seed = 1;
  train(net, st, d, nullptr, &d, opt);
  const Evaluation ev = evaluate(net, d);
  std::printf("XOR: loss %.4g accuracy %.3f\n", ev.loss, ev.accuracy);
  CHECK(ev.accuracy == 1.0);
}
