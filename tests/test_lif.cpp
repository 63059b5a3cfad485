// LIF: the exact integrator against the analytic rate G(J) and the analytic subthreshold
// trace, the Odeint integrators' convergence orders, and the rate function itself.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "models/lif_rate.hpp"
#include "models/model_info.hpp"
#include "sim/simulation.hpp"
#include "sim/spec_defaults.hpp"

using namespace ranvier;

namespace {

struct Collect : sim::RunSink {
  std::vector<std::vector<sim::Spike>> spk = std::vector<std::vector<sim::Spike>>(4);
  std::vector<double> t;
  std::vector<std::vector<double>> values;
  void spikes(std::size_t pop, std::span<const sim::Spike> s) override {
    spk[pop].insert(spk[pop].end(), s.begin(), s.end());
  }
  void trace_sample(std::size_t, double tt, std::span<const double> v) override {
    t.push_back(tt);
    values.emplace_back(v.begin(), v.end());
  }
};

sim::PopulationSpec lif_pop(std::size_t n, sim::Integrator integ = sim::Integrator::exact) {
  return sim::default_population("lif", "lif", n, integ);
}

sim::StimulusSpec constant(std::vector<double> values) {
  sim::StimulusSpec s;
  s.name = "drive";
  s.target = "lif";
  s.kind = sim::StimulusSpec::Kind::constant;
  s.values = std::move(values);
  return s;
}

// Rate of each neuron as 1 / mean inter-spike interval.
std::vector<double> rates_hz(const std::vector<sim::Spike>& spikes, std::size_t n) {
  std::vector<double> first(n, -1), last(n, -1), count(n, 0);
  for (const auto& s : spikes) {
    if (first[s.neuron] < 0) first[s.neuron] = s.t;
    last[s.neuron] = s.t;
    ++count[s.neuron];
  }
  std::vector<double> r(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    if (count[i] > 1) r[i] = 1000.0 * (count[i] - 1) / (last[i] - first[i]);
  return r;
}

}  // namespace

TEST_CASE("LIF exact: rate under constant input matches G of v_in") {
  const std::vector<double> v_in = {1.01, 1.05, 1.1, 1.5, 2, 5, 10, 50};
  sim::RunSpec run;
  run.dt = 0.1;
  run.duration = 20000;  // >= 200 spikes at the lowest rate (10.6 Hz)
  run.populations = {lif_pop(v_in.size())};
  run.stimuli = {constant(v_in)};
  run.spike_populations = {"lif"};
  Collect sink;
  sim::Simulation(run).run(sink);
  const auto r = rates_hz(sink.spk[0], v_in.size());
  const models::LifRateParams p;  // the normalized defaults, as the population
  double worst = 0;
  for (std::size_t i = 0; i < v_in.size(); ++i) {
    const double G = models::lif_rate(p, v_in[i]);
    const double rel = std::fabs(r[i] - G) / G;
    worst = std::max(worst, rel);
    INFO("v_in = " << v_in[i] << ": simulated " << r[i] << " Hz, G = " << G << " Hz");
    CHECK(rel < 1e-3);  // the issue's bound: grid-rounded spike times miss it by percents
    // Spike times are solved in closed form, so only rounding remains: each interval is a
    // sum of ~1000 propagator steps, each exact to ~1e-16 relative.
    CHECK(rel < 1e-9);
  }
  MESSAGE("worst relative rate error: " << worst);
}

TEST_CASE("LIF exact: a refractory period shorter than dt loses no spike") {
  // tau_ref = 0.05 ms and 0 at dt = 0.1 ms with v_in = 50: the interval is ~0.45 ms, so a
  // neuron fires about every 4.5 steps and becomes free again inside the step it fired in.
  for (double tau_ref : {0.05, 0.0}) {
    sim::RunSpec run;
    run.dt = 0.1;
    run.duration = 1000;
    run.populations = {lif_pop(2)};
    run.populations[0].params["tau_ref"] = {tau_ref, tau_ref};
    run.stimuli = {constant({50.0, 20.0})};
    run.spike_populations = {"lif"};
    Collect sink;
    sim::Simulation(run).run(sink);
    const auto r = rates_hz(sink.spk[0], 2);
    models::LifRateParams p;
    p.tau_ref = tau_ref;
    for (int i = 0; i < 2; ++i) {
      const double G = models::lif_rate(p, i == 0 ? 50.0 : 20.0);
      INFO("tau_ref = " << tau_ref << ", neuron " << i << ": " << r[i] << " Hz vs G = " << G);
      CHECK(std::fabs(r[i] - G) / G < 1e-9);  // as above: exact up to rounding
    }
  }
}

TEST_CASE("LIF exact: subthreshold trace equals the analytic solution") {
  // v_in = 0.8 never reaches threshold: V(t) = 0.8 (1 - exp(-t / 20 ms)) from V = 0.
  sim::RunSpec run;
  run.dt = 0.1;
  run.duration = 200;
  run.populations = {lif_pop(1)};
  run.stimuli = {constant({0.8})};
  run.traces = {{"v", "lif", {"V"}, {}, 1}};
  Collect sink;
  sim::Simulation(run).run(sink);
  REQUIRE(sink.t.size() == 2001);
  double worst = 0;
  for (std::size_t j = 0; j < sink.t.size(); ++j)
    worst = std::max(worst, std::fabs(sink.values[j][0] - 0.8 * -std::expm1(-sink.t[j] / 20.0)));
  MESSAGE("max |V - V_exact| = " << worst);
  CHECK(worst < 1e-12);  // the issue's bound: the propagator is exact, rounding only
}

namespace {

// |V(t_end) - exact| for one neuron under v_in = 0.8 with the given integrator and dt.
double lif_error(sim::Integrator integ, double dt, double t_end) {
  sim::RunSpec run;
  run.dt = dt;
  run.duration = t_end;
  run.populations = {lif_pop(1, integ)};
  // dopri5 with tolerances it always meets: every step is accepted at the cap max_dt = dt,
  // so it runs as a fixed-step fifth-order method and its order in dt can be measured.
  run.populations[0].abs_tol = 1.0;
  run.populations[0].rel_tol = 1.0;
  run.stimuli = {constant({0.8})};
  run.traces = {{"v", "lif", {"V"}, {}, static_cast<std::size_t>(std::llround(t_end / dt))}};
  Collect sink;
  sim::Simulation(run).run(sink);
  return std::fabs(sink.values.back()[0] - 0.8 * -std::expm1(-t_end / 20.0));
}

// Observed orders log2(e(dt) / e(dt/2)) over a sequence of halvings.
std::vector<double> observed_orders(sim::Integrator integ, std::vector<double> dts, double t_end) {
  std::vector<double> e, p;
  for (double dt : dts) e.push_back(lif_error(integ, dt, t_end));
  for (std::size_t k = 1; k < e.size(); ++k) p.push_back(std::log2(e[k - 1] / e[k]));
  for (std::size_t k = 0; k < e.size(); ++k) MESSAGE("dt = " << dts[k] << ": error " << e[k]);
  return p;
}

}  // namespace

TEST_CASE("LIF Odeint integrators converge at their order") {
  // Orders are asymptotic; the dts below are in the asymptotic range (dt / tau_m <= 0.2)
  // and above the rounding floor, so a band of +-0.15 around the order holds.
  struct Case {
    sim::Integrator integ;
    double order;
    std::vector<double> dts;
  };
  for (const Case& c : {Case{sim::Integrator::euler, 1.0, {0.4, 0.2, 0.1, 0.05}},
                        Case{sim::Integrator::rk4, 4.0, {2.0, 1.0, 0.5, 0.25}},
                        Case{sim::Integrator::dopri5, 5.0, {2.0, 1.0, 0.5}}}) {
    const auto p = observed_orders(c.integ, c.dts, 40.0);
    for (double o : p) {
      INFO(std::string(sim::integrator_name(c.integ)) << ": observed order " << o);
      CHECK(std::fabs(o - c.order) < 0.15);
    }
  }
}

TEST_CASE("LIF Odeint integrators fire at the analytic rate") {
  // rk4 and dopri5 at dt = 0.1 ms, as the exact test: crossings located by cubic Hermite
  // interpolation (rk4) or on the dense output (dopri5), and the refractory end not rounded
  // to the grid (the released neuron integrates only the rest of its step). What is left is
  // the integrators' own error, ~(dt / tau_m)^4 ~ 1e-9 of an interval for rk4; 1e-6 leaves
  // room and is still 1000x tighter than a grid-rounded refractory end would allow.
  // The last two neurons have tau_ref = 0.05 ms < dt.
  const std::vector<double> v_in = {1.01, 1.05, 1.1, 1.5, 2, 5, 10, 50, 10, 50};
  for (auto integ : {sim::Integrator::rk4, sim::Integrator::dopri5}) {
    sim::RunSpec run;
    run.dt = 0.1;
    run.duration = 5000;
    run.populations = {lif_pop(v_in.size(), integ)};
    run.populations[0].abs_tol = run.populations[0].rel_tol = 1e-10;
    run.populations[0].params["tau_ref"][8] = run.populations[0].params["tau_ref"][9] = 0.05;
    run.stimuli = {constant(v_in)};
    run.spike_populations = {"lif"};
    Collect sink;
    sim::Simulation(run).run(sink);
    const auto r = rates_hz(sink.spk[0], v_in.size());
    for (std::size_t i = 0; i < v_in.size(); ++i) {
      models::LifRateParams p;
      p.tau_ref = i >= 8 ? 0.05 : 2.0;
      const double G = models::lif_rate(p, v_in[i]);
      INFO(std::string(sim::integrator_name(integ))
           << " v_in " << v_in[i] << ": " << r[i] << " Hz vs " << G);
      CHECK(std::fabs(r[i] - G) / G < 1e-6);
    }
  }
}

TEST_CASE("LIF rate function G of J and its derivative") {
  const models::LifRateParams p;
  CHECK(models::lif_rate(p, 0.5) == 0.0);
  CHECK(models::lif_rate(p, 1.0) == 0.0);  // exactly at threshold: never reached
  // Textbook form 1 / (tau_ref - tau_m ln(1 - 1/J)) [1/ms] -> Hz, for V_reset = V_L.
  for (double J : {1.01, 1.5, 2.0, 10.0}) {
    const double ref = 1000.0 / (2.0 - 20.0 * std::log(1.0 - 1.0 / J));
    CHECK(models::lif_rate(p, J) == doctest::Approx(ref).epsilon(1e-13));  // rounding only
  }
  // Saturation at 1 / tau_ref = 500 Hz for huge input.
  CHECK(models::lif_rate(p, 1e9) == doctest::Approx(500.0).epsilon(1e-6));
  // Dimensional form: V_L = -65 mV, V_th = -50, R = 10 MOhm, J = 2 nA -> V_inf = -45 mV.
  models::LifRateParams d{-65, -50, -65, 10, 10, 2};
  CHECK(models::lif_rate(d, 2.0) ==
        doctest::Approx(1000.0 / (2.0 + 10.0 * std::log(20.0 / 5.0))).epsilon(1e-13));
  // Derivative against central differences (h = 1e-6: truncation ~h^2 G''' and rounding
  // ~1e-16 G / h stay below 1e-6 relative away from threshold).
  for (double J : {1.05, 1.5, 3.0, 20.0}) {
    const double h = 1e-6;
    const double fd = (models::lif_rate(p, J + h) - models::lif_rate(p, J - h)) / (2 * h);
    CHECK(models::lif_rate_derivative(p, J) == doctest::Approx(fd).epsilon(1e-6));
  }
  CHECK(models::lif_rate_derivative(p, 0.9) == 0.0);
  std::vector<double> J = {0.5, 1.5, 2.0}, out(3), dout(3);
  models::lif_rate(p, J, out);
  models::lif_rate_derivative(p, J, dout);
  for (int i = 0; i < 3; ++i) {
    CHECK(out[i] == models::lif_rate(p, J[i]));
    CHECK(dout[i] == models::lif_rate_derivative(p, J[i]));
  }
}

TEST_CASE("LIF: V_reset >= V_th is rejected naming the neuron") {
  sim::RunSpec run;
  run.dt = 0.1;
  run.duration = 1;
  run.populations = {lif_pop(3)};
  run.populations[0].params["V_reset"] = {0.0, 1.0, 0.0};
  try {
    sim::Simulation s(run);
    FAIL("expected SpecError");
  } catch (const sim::SpecError& e) {
    CHECK(e.key_path == "populations.lif.params.V_reset");
    CHECK(std::string(e.what()).find("neuron 1") != std::string::npos);
  }
}

TEST_CASE("LIF exact: dimensional parameters and V_reset below V_L follow the general G") {
  // mV, MOhm, nA, ms: V_L = -65, V_th = -50, R = 10, tau_m = 10, tau_ref = 2; neuron 1 resets
  // to -70 mV, below rest, which the general interval tau_ref + tau_m ln((V_inf - V_reset) /
  // (V_inf - V_th)) covers and the textbook form (V_reset = V_L) does not.
  sim::RunSpec run;
  run.dt = 0.1;
  run.duration = 5000;
  run.populations = {lif_pop(2)};
  auto& p = run.populations[0].params;
  p["V_L"] = {-65, -65};
  p["V_th"] = {-50, -50};
  p["V_reset"] = {-65, -70};
  p["R"] = {10, 10};
  p["tau_m"] = {10, 10};
  run.stimuli = {constant({2.0, 2.0})};  // nA: V_inf = -45 mV
  run.spike_populations = {"lif"};
  Collect sink;
  sim::Simulation(run).run(sink);
  const auto r = rates_hz(sink.spk[0], 2);
  for (int i = 0; i < 2; ++i) {
    const models::LifRateParams lp{-65, -50, i == 0 ? -65.0 : -70.0, 10, 10, 2};
    const double G = models::lif_rate(lp, 2.0);
    INFO("neuron " << i << ": " << r[i] << " Hz vs G = " << G);
    CHECK(std::fabs(r[i] - G) / G < 1e-9);  // exact integration: rounding only
  }
  CHECK(r[1] < r[0]);  // a deeper reset lengthens the interval
}
