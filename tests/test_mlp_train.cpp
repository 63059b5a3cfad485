// Training results of the MLP engine: XOR, the discrete mapping, overfitting with and
// without regularisation, determinism and resuming.
#include <doctest/doctest.h>

#include <cstdio>
#include <memory>

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

TEST_CASE("the discrete mapping reaches at least 98% test accuracy") {
  const Dataset all = discrete_mapping(3, 6, 200, 0.25, 1, 11);
  const Dataset test = discrete_mapping(3, 6, 200, 0.25, 1, 12);
  Network<float> net(mapping_spec());
  net.init(1);
  TrainState st;
  st.optimizer.spec.lr = 0.05;
  st.optimizer.spec.momentum = 0.9;
  st.optimizer.spec.schedule = ScheduleKind::cosine;
  st.optimizer.spec.total_epochs = 60;
  TrainOptions opt;
  opt.epochs = 60;
  opt.batch = 16;
  train(net, st, all, nullptr, &test, opt);
  std::printf("discrete mapping: test accuracy %.4f\n", st.history.test_acc.back());
  CHECK(st.history.test_acc.back() >= 0.98);
}

namespace {
// A run of `epochs` epochs of the mapping with every random feature on (dropout, noise,
// validation and early-stopping bookkeeping), optionally stopped at `stop` and resumed.
std::vector<float> mapping_run(int threads, int epochs, int stop, TrainState* out = nullptr) {
  const Dataset all = discrete_mapping(3, 6, 60, 0.3, 1, 11);
  auto [tr, val] = split_validation(all, 0.2, 1);
  NetworkSpec spec = mapping_spec();
  spec.layers[0].dropout = 0.2;
  Network<float> net(spec);
  net.init(3);
  TrainState st;
  st.optimizer.spec.kind = OptimizerKind::adam;
  st.optimizer.spec.lr = 0.01;
  st.optimizer.spec.weight_decay = 1e-3;
  TrainOptions opt;
  opt.batch = 10;
  opt.threads = threads;
  opt.input_noise = 0.05;
  opt.patience = 100;
  opt.epochs = stop > 0 ? stop : epochs;
  train(net, st, tr, &val, nullptr, opt);
  if (stop > 0) {
    // What --resume restores: weights and state, in a fresh network.
    const std::vector<float> w = net.params();
    TrainState copy = st;
    Network<float> net2(spec);
    net2.params() = w;
    opt.epochs = epochs;
    train(net2, copy, tr, &val, nullptr, opt);
    if (out) *out = copy;
    return net2.params();
  }
  if (out) *out = st;
  return net.params();
}
}  // namespace

TEST_CASE("resuming after epoch k gives the same weights as an uninterrupted run") {
  for (int threads : {1, 2}) {
    TrainState a, b;
    const std::vector<float> full = mapping_run(threads, 12, 0, &a);
    const std::vector<float> resumed = mapping_run(threads, 12, 5, &b);
    CHECK(full == resumed);  // bit for bit: every random stream is keyed by (seed, epoch)
    CHECK(a.history.val_loss == b.history.val_loss);
  }
}

TEST_CASE("the same seed and thread count give identical weights") {
  CHECK(mapping_run(2, 4, 0) == mapping_run(2, 4, 0));
  CHECK(mapping_run(1, 4, 0) == mapping_run(1, 4, 0));
}

TEST_CASE("data-parallel: sample-weighted half-batch gradients equal the full-batch one") {
  // What train() does with two threads: each replica takes a column block, gradients are
  // combined with weights n_r / n. In double the sums differ only by rounding (1e-12).
  NetworkSpec spec = mapping_spec();
  Network<double> net(spec);
  net.init(2);
  Network<double> rep(net, Network<double>::ReplicaTag{});
  const Dataset d = discrete_mapping(3, 6, 5, 0.3, 1, 4);  // 15 samples: blocks of 7 and 8
  const Matrix<double> X = d.X.cast<double>(), Y = d.Y.cast<double>();
  net.loss_and_grad(X, Y);
  const std::vector<double> full = net.grads();
  net.loss_and_grad(X.data(), Y.data(), 7);
  rep.loss_and_grad(X.data() + 7 * 6, Y.data() + 7 * 3, 8);
  double worst = 0;
  for (std::size_t i = 0; i < full.size(); ++i)
    worst =
        std::max(worst, std::abs(7.0 / 15 * net.grads()[i] + 8.0 / 15 * rep.grads()[i] - full[i]));
  CHECK(worst < 1e-12);
}

TEST_CASE("optimizer updates: sgd with momentum, adam, weight decay, l1; schedules") {
  NetworkSpec spec;
  spec.inputs = 1;
  spec.layers = {{1, {ActivationKind::identity}}};
  Network<double> net(spec);
  net.params() = {2.0, 0.5};  // W, b
  Optimizer<double> sgd;
  sgd.spec.momentum = 0.9;
  sgd.spec.weight_decay = 0.1;
  sgd.spec.l1 = 0.01;
  net.grads() = {1.0, 1.0};
  sgd.step(net, 0.1);
  // dW = 1 + 0.1 * 2 + 0.01 * sign(2) = 1.21 (weights only); db = 1
  CHECK(net.params()[0] == doctest::Approx(2.0 - 0.1 * 1.21).epsilon(1e-12));
  CHECK(net.params()[1] == doctest::Approx(0.5 - 0.1).epsilon(1e-12));
  net.grads() = {0.0, 1.0};
  sgd.step(net, 0.1);
  // v_b = 0.9 * 1 + 1 = 1.9
  CHECK(net.params()[1] == doctest::Approx(0.4 - 0.19).epsilon(1e-12));

  Optimizer<double> adam;
  adam.spec.kind = OptimizerKind::adam;
  net.params() = {2.0, 0.5};
  net.grads() = {0.3, -4.0};
  adam.step(net, 0.01);
  // First Adam step: m_hat = g, v_hat = g^2, so the step is lr * sign(g) (eps aside).
  CHECK(net.params()[0] == doctest::Approx(2.0 - 0.01).epsilon(1e-7));
  CHECK(net.params()[1] == doctest::Approx(0.5 + 0.01).epsilon(1e-7));

  OptimizerSpec s;
  s.lr = 1.0;
  s.schedule = ScheduleKind::step;
  s.step_epochs = 3;
  s.gamma = 0.5;
  CHECK(learning_rate(s, 2) == 1.0);
  CHECK(learning_rate(s, 3) == 0.5);
  CHECK(learning_rate(s, 7) == 0.25);
  s.schedule = ScheduleKind::cosine;
  s.total_epochs = 10;
  s.lr_min = 0.1;
  CHECK(learning_rate(s, 0) == 1.0);
  CHECK(learning_rate(s, 5) == doctest::Approx(0.55).epsilon(1e-12));
  CHECK(learning_rate(s, 10) == doctest::Approx(0.1).epsilon(1e-12));
}

TEST_CASE("initialisation: seeded, with the variance of Glorot and He") {
  NetworkSpec spec;
  spec.inputs = 400;
  spec.layers = {{300, {ActivationKind::relu}, 0, InitKind::he_normal},
                 {200, {ActivationKind::tanh}, 0, InitKind::glorot_uniform}};
  Network<double> a(spec), b(spec);
  a.init(5);
  b.init(5);
  CHECK(a.params() == b.params());
  // Sample variances of 120000 and 60000 draws: relative standard error sqrt(2/n) < 0.6%,
  // so 3% is about five standard errors.
  const double v0 = a.W(0).squaredNorm() / a.W(0).size();
  const double v1 = a.W(1).squaredNorm() / a.W(1).size();
  CHECK(v0 == doctest::Approx(2.0 / 400).epsilon(0.03));
  CHECK(v1 == doctest::Approx(2.0 / (300 + 200)).epsilon(0.03));
  CHECK(a.b(0).norm() == 0.0);
}

TEST_CASE("early stopping stops and restores the best weights") {
  const Dataset d = function_samples("sin", 12, 0.3, -1, 1, false, 1);
  const Dataset val = function_samples("sin", 50, 0.0, -1, 1, true, 2);
  NetworkSpec spec;
  spec.inputs = 1;
  spec.layers = {{100, {ActivationKind::tanh}},
                 {100, {ActivationKind::tanh}},
                 {1, {ActivationKind::identity}}};
  Network<float> net(spec);
  net.init(1);
  TrainState st;
  st.optimizer.spec.lr = 0.05;
  st.optimizer.spec.momentum = 0.9;
  TrainOptions opt;
  opt.epochs = 4000;
  opt.batch = 12;
  opt.patience = 200;
  train(net, st, d, &val, nullptr, opt);
  CHECK(st.stopped);
  CHECK(st.history.epochs() < 4000);
  CHECK(evaluate(net, val).loss == doctest::Approx(st.best_val).epsilon(1e-6));
}

TEST_CASE("identical weights from runs in one process, whatever the buffers' addresses") {
  // Layers wider than one SIMD packet (16 floats), so vectorised sums are involved; the
  // first run allocates fresh memory, the later ones reuse freed blocks.
  auto run_once = [](int threads) {
    const Dataset d = discrete_mapping(3, 40, 40, 0.3, 1, 5);
    NetworkSpec spec;
    spec.inputs = 40;
    spec.layers = {{70, {ActivationKind::relu}, 0, InitKind::he_uniform},
                   {3, {ActivationKind::softmax}}};
    spec.loss = LossKind::cce;
    auto net = std::make_unique<Network<float>>(spec);
    net->init(1);
    TrainState st;
    st.optimizer.spec.lr = 0.05;
    TrainOptions opt;
    opt.epochs = 3;
    opt.batch = 24;
    opt.threads = threads;
    train(*net, st, d, nullptr, nullptr, opt);
    return net->params();
  };
  for (int threads : {1, 2}) {
    const std::vector<float> first = run_once(threads);
    std::vector<char> pad(1000 + 8 * threads);  // shift later allocations
    CHECK(run_once(threads) == first);
    CHECK(run_once(threads) == first);
  }
}
