// Stimulus shapes at the sample points (recorded as the input "I"), broadcasting and
// windows, the white-noise and Ornstein-Uhlenbeck statistics and their reproducibility.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "models/model_info.hpp"
#include "sim/simulation.hpp"
#include "sim/spec_defaults.hpp"

using namespace ranvier;
using Kind = sim::StimulusSpec::Kind;

namespace {

struct Collect : sim::RunSink {
  std::vector<sim::Spike> spk;
  std::vector<double> t;
  std::vector<std::vector<double>> I;  // [sample][neuron]
  void spikes(std::size_t, std::span<const sim::Spike> s) override {
    spk.insert(spk.end(), s.begin(), s.end());
  }
  void trace_sample(std::size_t, double tt, std::span<const double> v) override {
    t.push_back(tt);
    I.emplace_back(v.begin(), v.end());
  }
};

sim::RunSpec base(std::size_t n, double duration, double dt = 0.1) {
  sim::RunSpec run;
  run.dt = dt;
  run.duration = duration;
  run.populations = {sim::default_population("pop", "lif", n)};
  run.traces = {{"i", "pop", {"I"}, {}, 1}};
  return run;
}

sim::StimulusSpec stim(std::string name, Kind kind) {
  sim::StimulusSpec s;
  s.name = std::move(name);
  s.target = "pop";
  s.kind = kind;
  return s;
}

Collect run_it(const sim::RunSpec& run, int threads = 1) {
  Collect c;
  sim::Simulation(run, {threads}).run(c);
  return c;
}

}  // namespace

TEST_CASE("constant: broadcast - per-neuron values - window start to stop - sums") {
  auto run = base(4, 3.0);
  auto a = stim("a", Kind::constant);
  a.values = {1.5};  // broadcast to all four
  a.start = 1.0;
  a.stop = 2.0;
  auto b = stim("b", Kind::constant);
  b.neurons = {1, 3};
  b.values = {5.0, 7.0};  // one per targeted neuron
  run.stimuli = {a, b};
  const auto c = run_it(run);
  REQUIRE(c.t.size() == 31);
  for (std::size_t j = 0; j < c.t.size(); ++j) {
    const bool on = j >= 10 && j < 20;  // t in [1, 2): sampled at the start of each step
    const double A = on ? 1.5 : 0.0;
    CHECK(c.I[j][0] == A);
    CHECK(c.I[j][1] == A + 5.0);
    CHECK(c.I[j][2] == A);
    CHECK(c.I[j][3] == A + 7.0);
  }
}

TEST_CASE("steps and ramp are exact at the sample points") {
  auto run = base(2, 40.0, 0.5);
  auto s = stim("s", Kind::steps);
  s.neurons = {0};
  s.times = {10.0, 20.0, 30.0};
  s.step_values = {{-1.0}, {0.0}, {2.0}};
  auto r = stim("r", Kind::ramp);
  r.neurons = {1};
  r.times = {5.0, 15.0, 25.0};
  r.step_values = {{0.0}, {5.0}, {-5.0}};
  run.stimuli = {s, r};
  const auto c = run_it(run);
  for (std::size_t j = 0; j < c.t.size(); ++j) {
    const double t = c.t[j];
    const double step = t < 10 ? 0.0 : t < 20 ? -1.0 : t < 30 ? 0.0 : 2.0;
    const double ramp = t <= 5 ? 0.0 : t <= 15 ? 0.5 * (t - 5) : t <= 25 ? 5.0 - (t - 15) : -5.0;
    INFO("t = " << t);
    CHECK(c.I[j][0] == step);                     // values are copied, not computed: exact
    CHECK(std::fabs(c.I[j][1] - ramp) <= 1e-13);  // one interpolation: rounding only
  }
}

TEST_CASE("sine is exact at the sample points") {
  auto run = base(2, 100.0, 0.1);
  auto s = stim("s", Kind::sine);
  s.amplitude = {2.0, 3.0};
  s.frequency_hz = {50.0};
  s.phase = {0.3};
  s.offset = {1.0};
  run.stimuli = {s};
  const auto c = run_it(run);
  double worst = 0;
  for (std::size_t j = 0; j < c.t.size(); ++j)
    for (int i = 0; i < 2; ++i) {
      const double ref =
          1.0 + (i ? 3.0 : 2.0) * std::sin(2 * std::numbers::pi * 50.0 * c.t[j] / 1000.0 + 0.3);
      worst = std::max(worst, std::fabs(c.I[j][i] - ref));
    }
  CHECK(worst < 1e-13);  // the same formula at the same t: rounding differences only
}

namespace {

struct Moments {
  double mean, sd;
};
Moments moments(const Collect& c, std::size_t from = 0) {
  double s = 0, s2 = 0, n = 0;
  for (std::size_t j = from; j < c.I.size(); ++j)
    for (double x : c.I[j]) {
      s += x;
      s2 += x * x;
      ++n;
    }
  const double m = s / n;
  return {m, std::sqrt(s2 / n - m * m)};
}

// Correlation of I over a lag of `lag` samples, pooled over neurons.
double autocorr(const Collect& c, std::size_t lag, double mean, double sd) {
  double s = 0, n = 0;
  for (std::size_t j = 0; j + lag < c.I.size(); ++j)
    for (std::size_t i = 0; i < c.I[j].size(); ++i) {
      s += (c.I[j][i] - mean) * (c.I[j + lag][i] - mean);
      ++n;
    }
  return s / n / (sd * sd);
}

}  // namespace

TEST_CASE("white noise: moments - independence over steps - reproducible - thread-independent") {
  auto run = base(500, 200.0);  // 500 neurons x 2001 samples ~ 1e6 independent draws
  auto w = stim("w", Kind::white_noise);
  w.mean = {1.0};
  w.sigma = {2.0};
  run.stimuli = {w};
  const auto c = run_it(run);
  const double N = 500.0 * 2001;
  const auto m = moments(c);
  // 5 standard errors: sd/sqrt(N) for the mean, sd/sqrt(2N) for the sd, 1/sqrt(N) for a
  // correlation.
  CHECK(std::fabs(m.mean - 1.0) < 5 * 2.0 / std::sqrt(N));
  CHECK(std::fabs(m.sd - 2.0) < 5 * 2.0 / std::sqrt(2 * N));
  CHECK(std::fabs(autocorr(c, 1, 1.0, 2.0)) < 5 / std::sqrt(N));
  // Same seed: identical; another seed: different; two threads: identical.
  CHECK(run_it(run).I == c.I);
  auto other = run;
  other.seed = 2;
  CHECK(run_it(other).I != c.I);
  CHECK(run_it(run, 2).I == c.I);
}

TEST_CASE("white noise drives a large population identically on 1 and 2 threads") {
  // 128 chunks: enough that the LIF engine uses 2 threads (it wants 64 chunks a thread).
  auto run = base(32768, 50.0);
  run.traces.clear();
  run.spike_populations = {"pop"};
  auto w = stim("w", Kind::white_noise);
  w.mean = {1.2};
  w.sigma = {0.5};
  run.stimuli = {w};
  const auto a = run_it(run, 1), b = run_it(run, 2);
  REQUIRE(a.spk.size() > 1000);
  REQUIRE(a.spk.size() == b.spk.size());
  bool same = true;
  for (std::size_t k = 0; k < a.spk.size(); ++k)
    same &= a.spk[k].neuron == b.spk[k].neuron && a.spk[k].t == b.spk[k].t;
  CHECK(same);
}

TEST_CASE("Ornstein-Uhlenbeck: stationary mean - sd and correlation time") {
  auto run = base(200, 1000.0);  // 200 neurons x 1000 ms, tau = 10 ms, dt = 0.1 ms
  auto o = stim("o", Kind::ornstein_uhlenbeck);
  o.mean = {2.0};
  o.sigma = {0.5};
  o.tau = 10.0;
  run.stimuli = {o};
  const auto c = run_it(run);
  const auto m = moments(c);
  // Samples are correlated over tau: the effective count is ~ n_neurons * T / (2 tau) =
  // 10000, so one standard error is sigma / 100 for the mean and ~sigma / 140 for the sd;
  // bounds are 5 of those. The process starts in its stationary law, so no burn-in.
  CHECK(std::fabs(m.mean - 2.0) < 5 * 0.5 / 100);
  CHECK(std::fabs(m.sd - 0.5) < 5 * 0.5 / 140);
  // The exact update gives correlation exp(-lag/tau): e^-1 at lag tau = 100 samples.
  // Standard error of a pooled correlation ~ 1/sqrt(10000) = 0.01; bound 0.05.
  CHECK(std::fabs(autocorr(c, 100, 2.0, 0.5) - std::exp(-1.0)) < 0.05);
  CHECK(std::fabs(autocorr(c, 1, 2.0, 0.5) - std::exp(-0.01)) < 0.05);
  // The first sample is already stationary across neurons: 200 draws, SE 0.035.
  double s0 = 0;
  for (double x : c.I[0]) s0 += x;
  CHECK(std::fabs(s0 / 200 - 2.0) < 5 * 0.5 / std::sqrt(200.0));
}
