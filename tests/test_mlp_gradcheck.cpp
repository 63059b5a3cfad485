// Every operation, activation, loss and layer of the MLP against central finite
// differences in double precision: ||g1 - g2|| / ||g1 + g2|| < 1e-6.
#include <doctest/doctest.h>

#include <cstdio>
#include <functional>
#include <random>

#include "models/lif_rate.hpp"
#include "networks/mlp/diagnostics.hpp"
#include "networks/mlp/network.hpp"

using namespace ranvier::mlp;
using Mat = Matrix<double>;

namespace {

// Central differences with h = 1e-6 have a truncation error ~h^2 |f'''| ~ 1e-12 and a
// rounding error ~eps |f| / h ~ 1e-10 relative to the gradient, far below the 1e-6 the
// issue asks for; the 1e-6 bound leaves room for gradients with small norms.
constexpr double kTol = 1e-6;
constexpr double kStep = 1e-6;

Mat random_matrix(int r, int c, std::mt19937_64& rng, double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> u(lo, hi);
  Mat m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = u(rng);
  return m;
}

// Builds a graph of parameters P_k (one per shape) through `build`, and checks
// d(loss)/dP_k against central differences for each k. `build` returns the loss node.
double check_graph(const std::string& what, std::vector<Mat> params,
                   const std::function<NodeId(Graph<double>&, const std::vector<NodeId>&)>& build) {
  std::vector<Mat> grads;
  for (auto& p : params) grads.push_back(Mat::Zero(p.rows(), p.cols()));
  Graph<double> g;
  std::vector<NodeId> ids;
  for (std::size_t k = 0; k < params.size(); ++k)
    ids.push_back(g.parameter("P" + std::to_string(k), params[k].data(), grads[k].data(),
                              params[k].rows(), params[k].cols()));
  const NodeId loss = build(g, ids);
  g.forward(loss);
  g.backward(loss);
  double worst = 0;
  for (std::size_t k = 0; k < params.size(); ++k) {
    Mat numeric(params[k].rows(), params[k].cols());
    for (Eigen::Index i = 0; i < params[k].size(); ++i) {
      double& w = params[k].data()[i];
      const double w0 = w;
      w = w0 + kStep;
      g.forward(loss);
      const double lp = g.scalar(loss);
      w = w0 - kStep;
      g.forward(loss);
      const double lm = g.scalar(loss);
      w = w0;
      numeric.data()[i] = (lp - lm) / (2 * kStep);
    }
    const double rel = relative_difference(grads[k], numeric);
    worst = std::max(worst, rel);
    INFO(what << " P" << k << " relative difference " << rel);
    CHECK(rel < kTol);
  }
  std::printf("gradcheck %-28s worst relative difference %.3e\n", what.c_str(), worst);
  return worst;
}

}  // namespace

TEST_CASE("operations: matmul, add_bias, add, sub, mul, scale, sum") {
  std::mt19937_64 rng(1);
  const Mat A = random_matrix(3, 4, rng), B = random_matrix(4, 5, rng),
            b = random_matrix(3, 1, rng);
  const Mat C = random_matrix(3, 5, rng);
  // A loss that is not linear in the product, so both dA and dB are non-trivial.
  check_graph("matmul", {A, B}, [](Graph<double>& g, const std::vector<NodeId>& p) {
    const NodeId y = g.matmul(p[0], p[1]);
    return g.sum(g.mul(y, y));
  });
  check_graph("add_bias", {C, b}, [](Graph<double>& g, const std::vector<NodeId>& p) {
    const NodeId y = g.add_bias(p[0], p[1]);
    return g.sum(g.mul(y, y));
  });
  check_graph("add/sub/mul/scale", {C, C * 0.5 + Mat::Ones(3, 5)},
              [](Graph<double>& g, const std::vector<NodeId>& p) {
                const NodeId s = g.add(p[0], p[1]);
                const NodeId d = g.sub(p[0], g.scale(p[1], 0.3));
                return g.sum(g.mul(s, d));
              });
}

TEST_CASE("activations: every trainable one") {
  std::mt19937_64 rng(2);
  Mat X = random_matrix(4, 6, rng, -2, 2);
  // Keep away from the kinks of relu and leaky_relu at 0 (finite differences straddling
  // the kink would measure an average of the two slopes).
  for (Eigen::Index i = 0; i < X.size(); ++i)
    if (std::abs(X.data()[i]) < 0.05) X.data()[i] += 0.2;
  const Mat W = random_matrix(4, 6, rng);  // weights of a weighted sum, so dy is not uniform
  for (const auto& name : activation_names()) {
    const ActivationKind k = activation_from_name(name);
    if (!activation_untrainable_reason(k).empty()) continue;
    if (k == ActivationKind::lif_rate) continue;  // its own test below (soft and hard)
    Activation a{k, 0.1};
    check_graph("activation " + name, {X, W}, [a](Graph<double>& g, const std::vector<NodeId>& p) {
      return g.sum(g.mul(g.activation(p[0], a), p[1]));
    });
  }
}

TEST_CASE("lif_rate: the soft-LIF gradient against finite differences, and its hard limit") {
  // Inputs around the threshold (1) and far from it on both sides: the soft curve's
  // gradient exists everywhere, including below threshold where the hard one is 0.
  std::mt19937_64 rng(4);
  const Mat X = random_matrix(5, 6, rng, -1, 4);
  const Mat W = random_matrix(5, 6, rng);
  for (double sigma : {0.5, 0.1, 0.02}) {
    Activation a;
    a.kind = ActivationKind::lif_rate;
    a.smoothing = sigma;
    a.tau_m = 20;
    a.tau_ref = 2;
    a.amplitude = 0.01;
    // The graph differentiates the soft curve when smoothing (training or gradient checks).
    const std::string what = "lif_rate sigma=" + std::to_string(sigma);
    check_graph(what, {X, W}, [a](Graph<double>& g, const std::vector<NodeId>& p) {
      g.smooth = true;
      return g.sum(g.mul(g.activation(p[0], a), p[1]));
    });
  }
  // Whole networks: `gradcheck` (and `ranvier gradcheck`) check the soft curve too.
  NetworkSpec spec;
  spec.inputs = 3;
  LayerSpec h;
  h.units = 4;
  h.activation.kind = ActivationKind::lif_rate;
  h.activation.smoothing = 0.1;
  LayerSpec o;
  o.units = 2;
  o.activation.kind = ActivationKind::softmax;
  spec.layers = {h, h, o};
  spec.loss = LossKind::cce;
  Network<double> net(spec);
  net.init(3);
  for (std::size_t i = 0; i < net.params().size(); ++i) net.params()[i] *= 3;  // some units fire
  std::mt19937_64 r2(9);
  const Mat Xn = random_matrix(3, 5, r2, 0, 1);
  Mat Y = Mat::Zero(2, 5);
  for (int j = 0; j < 5; ++j) Y(j % 2, j) = 1;
  for (const auto& row : gradcheck(net, Xn, Y, kStep)) {
    INFO(row.tensor << " relative difference " << row.relative);
    CHECK(row.relative < kTol);
  }

  // Soft -> hard as sigma -> 0. The softplus exceeds max(x, 0) by sigma ln(1 + e^(-|x|/sigma))
  // (x = J - threshold), so: above threshold the gap closes exponentially (J = 1.5); at the
  // threshold G_sigma = G(x = sigma ln 2) -> 0 logarithmically slowly; below it
  // T >= tau_m ln(1/x_sigma) >= tau_m |x| / sigma, so G_sigma <= 1000 sigma / (tau_m |x|).
  ranvier::models::LifRateParams p;
  p.V_L = 0;
  p.V_reset = 0;
  p.V_th = 1;
  p.R = 1;
  p.tau_m = 20;
  p.tau_ref = 2;
  for (double J : {0.8, 1.0, 1.5}) {
    double last = 1e300;
    for (double sigma : {0.1, 0.01, 0.001, 1e-4, 1e-6}) {
      const double diff =
          std::abs(ranvier::models::lif_rate_soft(p, J, sigma) - ranvier::models::lif_rate(p, J));
      CHECK(diff <= last);  // monotone in sigma
      last = diff;
      if (J < 1) CHECK(diff <= 1000 * sigma / (p.tau_m * (1 - J)));
      if (J > 1 && sigma <= 0.01) CHECK(diff < 1e-9);
      std::printf("soft LIF J %.1f sigma %-6g |G_sigma - G| = %.3e Hz\n", J, sigma, diff);
    }
    CHECK(last < 5);  // Hz at sigma = 1e-6, even at the threshold (3.5 Hz there)
  }
  // The derivative converges too, away from the threshold's kink.
  CHECK(std::abs(ranvier::models::lif_rate_soft_derivative(p, 2.0, 1e-4) -
                 ranvier::models::lif_rate_derivative(p, 2.0)) <
        1e-4 * ranvier::models::lif_rate_derivative(p, 2.0));
}

TEST_CASE("lif_rate training noise: additive, of the set deviation, only while training") {
  Mat X = Mat::Constant(100, 100, 1.5);  // above threshold: y = amplitude G(1.5) > 0
  Mat G = Mat::Zero(100, 100);
  Graph<double> g;
  const NodeId x = g.parameter("x", X.data(), G.data(), 100, 100, false);
  Activation a;
  a.kind = ActivationKind::lif_rate;
  a.noise = 0.1;
  const NodeId y = g.activation(x, a);
  g.forward(y);
  const Mat clean = g.value(y);  // evaluation: the hard curve, no noise
  CHECK(clean(0, 0) ==
        doctest::Approx(a.amplitude * ranvier::models::lif_rate(lif_params(a), 1.5)));
  g.training = true;
  CHECK_THROWS_AS(g.forward(y), std::logic_error);  // noise needs a generator
  std::mt19937_64 rng(1);
  g.rng = &rng;
  g.forward(y);
  Mat soft = Mat::Zero(100, 100);
  activation_forward<double>(a, X, soft, true);
  const Mat diff = Mat(g.value(y)) - soft;
  const double mean = diff.mean();
  const double sd = std::sqrt((diff.array() - mean).square().mean());
  // 10000 draws: the mean's standard error is 0.001 and the sample deviation's relative
  // error ~0.7%; 5 standard errors and 5% are wide enough never to fail by chance.
  CHECK(std::abs(mean) < 0.005);
  CHECK(std::abs(sd - 0.1) < 0.005);
}

TEST_CASE("heaviside and one_hot are refused where gradients are needed") {
  Mat X = Mat::Ones(2, 2), dX = Mat::Zero(2, 2);
  Graph<double> g;
  const NodeId x = g.parameter("x", X.data(), dX.data(), 2, 2);
  CHECK_THROWS_WITH_AS(g.activation(x, {ActivationKind::heaviside}),
                       doctest::Contains("cannot be used where gradients are needed"),
                       std::invalid_argument);
  CHECK_THROWS_AS(g.activation(x, {ActivationKind::one_hot}), std::invalid_argument);
  // ... but allowed for inference.
  const NodeId in = g.input("in");
  const NodeId y = g.activation(in, {ActivationKind::one_hot});
  Mat v(3, 2);
  v << 1, 5, 3, 2, 2, 0;
  g.bind(in, v.data(), 3, 2);
  g.forward(y);
  CHECK(g.value(y)(1, 0) == 1.0);
  CHECK(g.value(y)(0, 1) == 1.0);
  CHECK(g.value(y).sum() == 2.0);
}

TEST_CASE("losses: mse, bce, cce, nll, fused softmax_cce and logistic_bce") {
  std::mt19937_64 rng(3);
  const Mat Z = random_matrix(3, 5, rng, -2, 2);
  Mat T01 = random_matrix(3, 5, rng, 0, 1);  // soft targets in (0, 1)
  Mat onehot = Mat::Zero(3, 5);
  for (int j = 0; j < 5; ++j) onehot(j % 3, j) = 1;
  auto with_target = [](const Mat& t, auto loss) {
    return [t, loss](Graph<double>& g, const std::vector<NodeId>& p) {
      const NodeId tn = g.input("t");
      g.bind(tn, t.data(), t.rows(), t.cols());
      return loss(g, p[0], tn);
    };
  };
  check_graph("loss mse", {Z},
              with_target(T01, [](Graph<double>& g, NodeId y, NodeId t) { return g.mse(y, t); }));
  check_graph("loss bce", {Z}, with_target(T01, [](Graph<double>& g, NodeId z, NodeId t) {
                return g.bce(g.activation(z, {ActivationKind::logistic}), t);
              }));
  check_graph("loss cce", {Z}, with_target(onehot, [](Graph<double>& g, NodeId z, NodeId t) {
                return g.cce(g.activation(z, {ActivationKind::softmax}), t);
              }));
  check_graph("loss nll", {Z}, with_target(onehot, [](Graph<double>& g, NodeId z, NodeId t) {
                return g.nll(g.activation(z, {ActivationKind::log_softmax}), t);
              }));
  check_graph("loss softmax_cce (fused)", {Z},
              with_target(onehot, [](Graph<double>& g, NodeId z, NodeId t) {
                return g.softmax_cce(z, t);
              }));
  check_graph(
      "loss logistic_bce (fused)", {Z},
      with_target(T01, [](Graph<double>& g, NodeId z, NodeId t) { return g.logistic_bce(z, t); }));
}

TEST_CASE("fused losses equal the unfused ones") {
  std::mt19937_64 rng(4);
  Mat Z = random_matrix(4, 3, rng, -3, 3), dZ = Mat::Zero(4, 3);
  Mat t = Mat::Zero(4, 3);
  t(0, 0) = t(2, 1) = t(3, 2) = 1;
  Graph<double> g;
  const NodeId z = g.parameter("z", Z.data(), dZ.data(), 4, 3);
  const NodeId tn = g.input("t");
  g.bind(tn, t.data(), 4, 3);
  const NodeId a = g.softmax_cce(z, tn);
  const NodeId b = g.cce(g.activation(z, {ActivationKind::softmax}), tn);
  g.forward(a);
  g.forward(b);
  // Same mathematical value; the difference is rounding of a few operations.
  CHECK(g.scalar(a) == doctest::Approx(g.scalar(b)).epsilon(1e-12));
}

TEST_CASE("layers: dense stacks with dropout off, every loss, every init") {
  std::mt19937_64 rng(5);
  struct Case {
    std::vector<ActivationKind> acts;
    LossKind loss;
    InitKind init;
  };
  const std::vector<Case> cases = {
      {{ActivationKind::tanh, ActivationKind::logistic}, LossKind::bce, InitKind::glorot_uniform},
      {{ActivationKind::relu, ActivationKind::softmax}, LossKind::cce, InitKind::he_normal},
      {{ActivationKind::softplus, ActivationKind::log_softmax},
       LossKind::nll,
       InitKind::he_uniform},
      {{ActivationKind::leaky_relu, ActivationKind::identity},
       LossKind::mse,
       InitKind::glorot_normal},
  };
  for (const Case& c : cases) {
    NetworkSpec spec;
    spec.inputs = 4;
    spec.layers = {{5, {c.acts[0], 0.1}, 0.3, c.init}, {3, {c.acts[1]}, 0, c.init}};
    spec.loss = c.loss;
    Network<double> net(spec);
    net.init(7);
    for (int l = 0; l < 2; ++l) net.b(l).setRandom();  // non-zero biases
    const Mat X = random_matrix(4, 6, rng);
    Mat Y = Mat::Zero(3, 6);
    for (int j = 0; j < 6; ++j) Y(j % 3, j) = 1;
    for (const auto& row : gradcheck(net, X, Y, kStep)) {
      INFO(loss_name(c.loss) << " " << row.tensor << " " << row.relative);
      CHECK(row.relative < kTol);
      std::printf("gradcheck network %-4s %-11s relative difference %.3e\n",
                  std::string(loss_name(c.loss)).c_str(), row.tensor.c_str(), row.relative);
    }
  }
}

TEST_CASE("dropout: inverted scaling, identity at evaluation, gradient through the mask") {
  std::mt19937_64 rng(6);
  Mat X = Mat::Ones(50, 40), dX = Mat::Zero(50, 40);
  Graph<double> g;
  const NodeId x = g.parameter("x", X.data(), dX.data(), 50, 40);
  const NodeId y = g.dropout(x, 0.25);
  const NodeId s = g.sum(y);
  g.rng = &rng;
  g.training = true;
  g.forward(s);
  // Kept elements are scaled by 1 / (1 - p); the mean over 2000 elements is 1 within a
  // few standard errors (sd of one element sqrt(p/(1-p)) = 0.58, so 0.58/sqrt(2000) = 0.013).
  for (Eigen::Index i = 0; i < 2000; ++i) {
    const double v = g.value(y).data()[i];
    CHECK((v == 0.0 || std::abs(v - 1.0 / 0.75) < 1e-12));
  }
  CHECK(std::abs(g.scalar(s) / 2000 - 1.0) < 0.06);
  g.backward(s);
  for (Eigen::Index i = 0; i < 2000; ++i) CHECK(dX.data()[i] == g.value(y).data()[i]);
  g.training = false;
  g.forward(s);
  CHECK(g.scalar(s) == 2000.0);
}

TEST_CASE("Jacobian of the outputs with respect to the inputs") {
  NetworkSpec spec;
  spec.inputs = 3;
  spec.layers = {{6, {ActivationKind::tanh}}, {2, {ActivationKind::softmax}}};
  spec.loss = LossKind::cce;
  Network<double> net(spec, true, /*input_grad=*/true);
  net.init(3);
  Mat x(3, 1);
  x << 0.3, -0.7, 1.1;
  const Mat J = net.jacobian(x);
  const Mat Jn = numeric_jacobian(net, x, kStep);
  CHECK(J.rows() == 2);
  CHECK(J.cols() == 3);
  CHECK(relative_difference(J, Jn) < kTol);
  // Softmax outputs sum to one, so the columns of the Jacobian sum to zero (rounding).
  CHECK(J.colwise().sum().cwiseAbs().maxCoeff() < 1e-12);
}
