// The spiking network of a trained rate MLP (networks/spiking_mlp.hpp): LIF neurons under
// constant currents fire at the analytic rate G(J) and their PSC-filtered trains carry
// that rate (issue 7, test 1); the batched kernel gives the same spikes as the general
// engine running the same network (the second method); results do not depend on threads
// or batching; the conversion refuses activations that cannot spike.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "models/lif_rate.hpp"
#include "networks/spiking_conversion.hpp"
#include "networks/spiking_mlp.hpp"
#include "sim/simulation.hpp"
#include "sim/spec_defaults.hpp"

using namespace ranvier;
using networks::SpikingLayer;
using networks::SpikingMlp;
using networks::SpikingMlpSpec;
using networks::SpikingResults;

namespace {

// Expected spikes of a LIF neuron starting at V = 0 under a constant J over [0, D): the
// first crossing at T - tau_ref, then one every T (the exact integrator carries the
// refractory remainder across steps, so the grid does not round the intervals).
int expected_count(const models::LifRateParams& p, double J, double D) {
  const double G = models::lif_rate(p, J);
  if (G == 0) return 0;
  const double T = 1000.0 / G;
  const double first = T - p.tau_ref;
  return first >= D ? 0 : static_cast<int>(std::floor((D - first) / T)) + 1;
}

}  // namespace

TEST_CASE("constant currents: each neuron fires at G(J), and its filtered train carries G") {
  // Layer 0: one LIF neuron per input with W = identity, so neuron i gets J = x_i.
  // Layer 1: identity weights, so output neuron i's decoded input current is the
  // PSC-filtered train of hidden neuron i, times 1000 amplitude / 1000 per spike.
  const int n = 9;
  const double D = 10000.0;  // ms: 10 s
  SpikingMlpSpec s;
  s.inputs = n;
  SpikingLayer h;
  h.W = Eigen::MatrixXd::Identity(n, n);
  h.b = Eigen::VectorXd::Zero(n);
  h.tau_m = 20.0;
  h.tau_ref = 2.0;
  h.threshold = 1.0;
  h.amplitude = 0.01;
  SpikingLayer o = h;
  o.threshold = 1e9;  // output neurons silent: only their input current is looked at
  s.layers = {h, o};
  s.dt = 1.0;
  s.duration = D;
  s.tau_s = 5.0;
  s.decode_from = 1000.0;  // average the filtered current over [1 s, 10 s)
  Eigen::MatrixXf X(n, 1);
  X << 0.5f, 0.99f, 1.001f, 1.05f, 1.3f, 2.0f, 3.7f, 10.0f, 100.0f;
  const SpikingMlp net(s);
  SpikingResults r;
  r.resize(2, n, 1);
  std::vector<char> record = {1};
  net.run(X, 0, 1, 1, r, record);
  models::LifRateParams p;
  p.V_L = 0;
  p.V_reset = 0;
  p.V_th = 1;
  p.R = 1;
  p.tau_m = 20;
  p.tau_ref = 2;
  std::vector<int> count(n, 0);
  for (const auto& sp : r.rasters[0])
    if (sp.layer == 0) ++count[sp.neuron];
  for (int i = 0; i < n; ++i) {
    const double J = X(i, 0);
    const double G = models::lif_rate(p, J);
    INFO("J = " << J << ", G = " << G << " Hz, spikes " << count[i]);
    // The count is exact: the spike times are solved inside the step (to 1e-12 ms) and
    // the refractory remainder carried, so the intervals are exactly T(J).
    CHECK(count[i] == expected_count(p, J, D));
    // The rate over 10 s within one spike of G (the count is a whole number): 0.1 Hz.
    CHECK(std::fabs(count[i] / (D / 1000.0) - G) <= 1000.0 / D + 1e-9);
    // Filtered train: mean current = charge per spike (1000 amplitude) x rate / 1000
    // = amplitude G. Over the 9 s window the edge effects are at most one spike's
    // charge at each end: tolerance 2 spikes / 9 s in rate, i.e. amplitude * 2/9 Hz.
    const double mean_current = r.output_current(i, 0);
    CHECK(std::fabs(mean_current - h.amplitude * G) <= h.amplitude * (2.0 / 9.0) + 1e-12);
  }
}

namespace {

// A random network whose weights are multiples of 1/64, so that the engine's float
// weights (w = 1000 amplitude W = 10 W) hold them exactly.
SpikingMlpSpec small_network(double tau_m, double tau_s, double dt, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> u(-64, 128);
  SpikingMlpSpec s;
  s.inputs = 6;
  const int sizes[] = {7, 5, 3};
  int n_in = 6;
  for (int l = 0; l < 3; ++l) {
    SpikingLayer L;
    L.W.resize(sizes[l], n_in);
    for (Eigen::Index i = 0; i < L.W.size(); ++i)
      L.W.data()[i] = u(rng) / 64.0 * (l == 0 ? 2.0 : 1.0);
    L.b = Eigen::VectorXd::Constant(sizes[l], 0.5);
    L.tau_m = tau_m;
    L.tau_ref = 2.0;
    L.threshold = 1.0;
    L.amplitude = 0.01;
    s.layers.push_back(L);
    n_in = sizes[l];
  }
  s.dt = dt;
  s.duration = 200.0;
  s.tau_s = tau_s;
  return s;
}

struct Collect : sim::RunSink {
  std::vector<std::vector<sim::Spike>> by_pop = std::vector<std::vector<sim::Spike>>(3);
  void spikes(std::size_t pop, std::span<const sim::Spike> s) override {
    by_pop[pop].insert(by_pop[pop].end(), s.begin(), s.end());
  }
  void trace_sample(std::size_t, double, std::span<const double>) override {}
};

// The same network in the general engine: populations with the layer's LIF parameters,
// constant stimuli (layer 0: W x + b; the others: b), projections by weight matrix with
// w = 1000 amplitude W, one exponential channel per target, the minimal delay dt.
sim::RunSpec engine_spec(const SpikingMlpSpec& s, const Eigen::VectorXd& x) {
  sim::RunSpec r;
  r.dt = s.dt;
  r.duration = s.duration;
  const char* names[] = {"h0", "h1", "out"};
  for (std::size_t l = 0; l < s.layers.size(); ++l) {
    const SpikingLayer& L = s.layers[l];
    const std::size_t n = static_cast<std::size_t>(L.W.rows());
    auto p = sim::default_population(names[l], "lif", n);
    p.params["V_L"].assign(n, 0.0);
    p.params["V_reset"].assign(n, 0.0);
    p.params["V_th"].assign(n, L.threshold);
    p.params["R"].assign(n, 1.0);
    p.params["tau_m"].assign(n, L.tau_m);
    p.params["tau_ref"].assign(n, L.tau_ref);
    r.populations.push_back(p);
    r.spike_populations.push_back(names[l]);
    sim::StimulusSpec st;
    st.name = std::string("bias_") + names[l];
    st.target = names[l];
    st.kind = sim::StimulusSpec::Kind::constant;
    const Eigen::VectorXd J = l == 0 ? Eigen::VectorXd(L.W * x + L.b) : L.b;
    st.values.assign(J.data(), J.data() + J.size());
    r.stimuli.push_back(st);
    if (l == 0) continue;
    sim::ProjectionSpec pr;
    pr.name = std::string("to_") + names[l];
    pr.source = names[l - 1];
    pr.target = names[l];
    pr.rule.kind = networks::ConnectionRule::Kind::matrix;
    for (Eigen::Index j = 0; j < L.W.rows(); ++j)
      for (Eigen::Index i = 0; i < L.W.cols(); ++i)
        pr.rule.matrix.push_back(1000.0 * s.layers[l - 1].amplitude * L.W(j, i));
    pr.weight = networks::Distribution::constant(1.0);
    pr.delay = networks::Distribution::constant(s.dt);
    pr.tau = s.tau_s;
    pr.channel = "syn";
    r.projections.push_back(pr);
  }
  return r;
}

void compare_with_engine(double tau_m, double tau_s, double dt) {
  const SpikingMlpSpec s = small_network(tau_m, tau_s, dt, 7);
  Eigen::MatrixXf X(6, 1);
  X << 0.9f, 0.1f, 0.5f, 1.0f, 0.25f, 0.75f;
  const SpikingMlp net(s);
  // The kernel keeps only the first layer's neurons that can fire (J >= V_th): the
  // comparison covers that only if both kinds are there.
  const Eigen::ArrayXd J0 = s.layers[0].W * X.col(0).cast<double>() + s.layers[0].b;
  CHECK((J0 < s.layers[0].threshold).any());
  CHECK((J0 >= s.layers[0].threshold).any());
  SpikingResults r;
  r.resize(3, 3, 1);
  net.run(X, 0, 1, 1, r, {1});
  sim::Simulation sim(engine_spec(s, X.col(0).cast<double>()));
  Collect c;
  sim.run(c);
  std::size_t total = 0;
  for (int l = 0; l < 3; ++l) {
    std::vector<std::pair<int, double>> ours, theirs;
    for (const auto& sp : r.rasters[0])
      if (sp.layer == l) ours.emplace_back(sp.neuron, sp.t);
    for (const auto& sp : c.by_pop[l]) theirs.emplace_back(static_cast<int>(sp.neuron), sp.t);
    auto by_neuron_time = [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second < b.second;
    };
    std::sort(ours.begin(), ours.end(), by_neuron_time);
    std::sort(theirs.begin(), theirs.end(), by_neuron_time);
    INFO("layer " << l << ": kernel " << ours.size() << " spikes, engine " << theirs.size());
    REQUIRE(ours.size() == theirs.size());
    double worst = 0;
    for (std::size_t k = 0; k < ours.size(); ++k) {
      CHECK(ours[k].first == theirs[k].first);
      worst = std::max(worst, std::fabs(ours[k].second - theirs[k].second));
    }
    // Both solve the crossing to 1e-13 ms from the same propagators; the states differ
    // only by rounding (the engine stores currents as I/g and float weights): 1e-9 ms.
    CHECK(worst < 1e-9);
    CHECK(r.layer_spikes(l, 0) == static_cast<int>(ours.size()));
    total += ours.size();
  }
  MESSAGE("tau_m " << tau_m << ", tau_s " << tau_s << ", dt " << dt << ": " << total
                   << " identical spikes");
  CHECK(r.layer_spikes(0, 0) > 20);  // the network is active: the test compares something
  CHECK(r.layer_spikes(2, 0) > 5);
}

}  // namespace

TEST_CASE("the batched kernel gives the engine's spikes (a second method)") {
  compare_with_engine(20.0, 5.0, 1.0);
  compare_with_engine(5.0, 5.0, 0.1);  // tau_m = tau_s: the coupling's limit form
  compare_with_engine(10.0, 3.0, 0.5);
}

TEST_CASE("results do not depend on threads or batches, for current and Poisson input") {
  for (auto input : {networks::SpikeInput::current, networks::SpikeInput::poisson}) {
    SpikingMlpSpec s = small_network(20.0, 5.0, 1.0, 3);
    s.input = input;
    s.duration = 50.0;
    s.seed = 11;
    const int n = 3 * SpikingMlp::kBatch + 5;  // several batches and a partial one
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    Eigen::MatrixXf X(6, n);
    for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = u(rng);
    const SpikingMlp net(s);
    SpikingResults a, b;
    a.resize(3, 3, n);
    b.resize(3, 3, n);
    net.run(X, 0, n, 1, a);
    // Two threads, and the samples in two calls whose split is not on a batch boundary.
    net.run(X, 0, 17, 2, b);
    net.run(X, 17, n - 17, 2, b);
    CHECK(a.predicted == b.predicted);
    CHECK(a.layer_spikes == b.layer_spikes);
    CHECK(a.output_counts == b.output_counts);
    CHECK(a.output_current == b.output_current);
    CHECK(a.layer_spikes.sum() > 100);
    // Batch by batch through run_batch (spike-eval's way), last batch first, each from a
    // copy of its own columns, with one scratch: the same again.
    SpikingResults c;
    c.resize(3, 3, n);
    SpikingMlp::Scratch scratch;
    for (int f = (n - 1) / SpikingMlp::kBatch * SpikingMlp::kBatch; f >= 0;
         f -= SpikingMlp::kBatch) {
      const int count = std::min(SpikingMlp::kBatch, n - f);
      const Eigen::MatrixXf Xb = X.middleCols(f, count);
      net.run_batch(Xb, f, count, c, {}, scratch);
    }
    CHECK(a.predicted == c.predicted);
    CHECK(a.layer_spikes == c.layer_spikes);
    CHECK(a.output_counts == c.output_counts);
    CHECK(a.output_current == c.output_current);
  }
}

TEST_CASE("conversion: hidden layers must be lif_rate, the output layer is decoded") {
  mlp::NetworkSpec net;
  net.inputs = 4;
  mlp::LayerSpec hidden, out;
  hidden.units = 5;
  hidden.activation.kind = mlp::ActivationKind::lif_rate;
  out.units = 3;
  out.activation.kind = mlp::ActivationKind::softmax;
  net.layers = {hidden, out};
  CHECK(networks::spiking_refusal(net).empty());
  net.layers[0].activation.kind = mlp::ActivationKind::tanh;
  const std::string why = networks::spiking_refusal(net);
  CHECK(why.find("layer 0") != std::string::npos);
  CHECK(why.find("tanh") != std::string::npos);
  CHECK(why.find("lif_rate") != std::string::npos);
  net.layers[0].activation.kind = mlp::ActivationKind::lif_rate;
  net.layers[1].activation.kind = mlp::ActivationKind::relu;
  CHECK(networks::spiking_refusal(net).find("layer 1") != std::string::npos);
  // Weights land where mlp::Network keeps them: column-major W, then b, layer by layer.
  net.layers[1].activation.kind = mlp::ActivationKind::softmax;
  std::vector<float> params(5 * 4 + 5 + 3 * 5 + 3);
  for (std::size_t i = 0; i < params.size(); ++i) params[i] = static_cast<float>(i);
  const SpikingMlpSpec s = networks::spiking_spec(net, params, {});
  CHECK(s.layers[0].W(1, 0) == 1.0);
  CHECK(s.layers[0].W(0, 1) == 5.0);
  CHECK(s.layers[0].b(0) == 20.0);
  CHECK(s.layers[1].W(0, 0) == 25.0);
  CHECK(s.layers[1].b(2) == 42.0);
}
