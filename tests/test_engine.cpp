// The engine's contract: step count, trace sample times and layout, spike delivery order,
// progress reports, and a SpecError with the right key path for each kind of bad spec.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "models/model_info.hpp"
#include "sim/simulation.hpp"
#include "sim/spec_defaults.hpp"

using namespace ranvier;

namespace {

struct Collect : sim::RunSink {
  struct Call {
    std::size_t pop;
    std::vector<sim::Spike> s;
  };
  std::vector<Call> calls;
  std::vector<std::size_t> trace;
  std::vector<double> t;
  std::vector<std::vector<double>> values;
  void spikes(std::size_t pop, std::span<const sim::Spike> s) override {
    calls.push_back({pop, {s.begin(), s.end()}});
  }
  void trace_sample(std::size_t tr, double tt, std::span<const double> v) override {
    trace.push_back(tr);
    t.push_back(tt);
    values.emplace_back(v.begin(), v.end());
  }
};

sim::PopulationSpec pop(std::string name, std::string model, std::size_t n) {
  return sim::default_population(std::move(name), model, n);
}

sim::RunSpec good() {
  sim::RunSpec run;
  run.dt = 0.1;
  run.duration = 1.0;
  run.populations = {pop("lif", "lif", 4)};
  sim::StimulusSpec s;
  s.name = "drive";
  s.target = "lif";
  s.values = {1.5};
  run.stimuli = {s};
  run.spike_populations = {"lif"};
  run.traces = {{"v", "lif", {"V"}, {}, 1}};
  return run;
}

}  // namespace

TEST_CASE("step count and trace samples: times - count - layout") {
  auto run = good();
  run.stimuli[0].neurons = {0, 2};
  run.stimuli[0].values = {0.5, 0.25};
  run.traces = {{"a", "lif", {"V", "I"}, {2, 0}, 3}, {"b", "lif", {"ref_left"}, {}, 10}};
  sim::Simulation sim(run);
  CHECK(sim.n_steps() == 10);
  Collect c;
  sim.run(c);
  // Trace a: every 3 steps -> j = 0..floor(10/3) = 0..3; trace b: j = 0, 1 (t = 0 and 1).
  std::vector<double> ta, tb;
  for (std::size_t k = 0; k < c.t.size(); ++k) (c.trace[k] == 0 ? ta : tb).push_back(c.t[k]);
  REQUIRE(ta.size() == 4);
  REQUIRE(tb.size() == 2);
  for (std::size_t j = 0; j < 4; ++j)
    CHECK(ta[j] == doctest::Approx(0.3 * j).epsilon(1e-12));  // k * dt, never accumulated
  CHECK(tb[1] == doctest::Approx(1.0).epsilon(1e-12));
  // Variable-major: V(n2), V(n0), I(n2), I(n0); neuron 2 gets 0.25, neuron 0 gets 0.5.
  const auto& first = c.values[0];
  REQUIRE(first.size() == 4);
  CHECK(first[0] == 0.0);  // initial V = V_L
  CHECK(first[2] == 0.25);
  CHECK(first[3] == 0.5);
  const auto& last_a =
      c.values[c.trace[c.values.size() - 1] == 0 ? c.values.size() - 1 : c.values.size() - 2];
  CHECK(last_a[0] == doctest::Approx(0.25 * -std::expm1(-0.9 / 20.0)).epsilon(1e-12));
  CHECK(last_a[1] == doctest::Approx(0.5 * -std::expm1(-0.9 / 20.0)).epsilon(1e-12));
}

TEST_CASE("spikes: only listed populations - per step - in time order") {
  sim::RunSpec run;
  run.dt = 0.1;
  run.duration = 200.0;
  run.populations = {pop("quiet", "lif", 3), pop("loud", "lif", 50)};
  sim::StimulusSpec s;
  s.name = "drive";
  s.target = "loud";
  for (int i = 0; i < 50; ++i) s.values.push_back(1.1 + 0.2 * i);
  run.stimuli = {s};
  auto s2 = s;
  s2.name = "drive2";
  s2.target = "quiet";
  s2.values = {5.0};
  run.stimuli.push_back(s2);
  run.spike_populations = {"loud"};
  Collect c;
  sim::Simulation(run).run(c);
  REQUIRE(c.calls.size() > 100);
  double last = -1;
  std::size_t total = 0;
  for (const auto& call : c.calls) {
    CHECK(call.pop == 1);  // "quiet" fires too but is not recorded
    REQUIRE(!call.s.empty());
    // All spikes of one call lie in one step [k dt, (k+1) dt].
    const double k = std::floor(call.s.front().t / run.dt);
    for (const auto& sp : call.s) {
      CHECK(sp.t >= last);  // time order within and across calls
      CHECK(sp.t <= (k + 1) * run.dt + 1e-9);
      CHECK(sp.neuron < 50);
      last = sp.t;
    }
    total += call.s.size();
  }
  CHECK(total > 1000);
}

TEST_CASE("progress is reported and ends at the end time") {
  auto run = good();
  run.duration = 100.0;  // 1000 steps
  std::vector<double> seen;
  Collect c;
  sim::Simulation(run).run(c, [&](double now, double end) {
    CHECK(end == doctest::Approx(100.0));
    seen.push_back(now);
  });
  REQUIRE(seen.size() >= 3);
  CHECK(seen.back() == doctest::Approx(100.0));
  for (std::size_t k = 1; k < seen.size(); ++k) CHECK(seen[k] >= seen[k - 1]);
}

TEST_CASE("initial state overrides") {
  auto run = good();
  run.populations.push_back(pop("hh", "hh", 2));
  run.populations[1].initial["V"] = {-70.0, -60.0};
  run.populations[1].initial["m"] = {0.06, 0.04};
  run.populations[0].initial["V"] = {0.1, 0.2, 0.3, 0.4};
  run.traces = {{"h", "hh", {"V", "m"}, {}, 100}, {"l", "lif", {"V"}, {}, 100}};
  Collect c;
  sim::Simulation(run).run(c);
  CHECK(c.values[0] == std::vector<double>{-70.0, -60.0, 0.06, 0.04});
  CHECK(c.values[1] == std::vector<double>{0.1, 0.2, 0.3, 0.4});
}

TEST_CASE("bad specs: SpecError with the key path") {
  CHECK_NOTHROW(sim::validate(good()));
  struct Case {
    const char* what;
    std::function<void(sim::RunSpec&)> edit;
    std::string key;
  };
  using R = sim::RunSpec;
  const std::vector<Case> cases = {
      {"dt zero", [](R& r) { r.dt = 0; }, "dt"},
      {"dt negative", [](R& r) { r.dt = -0.1; }, "dt"},
      {"dt > duration", [](R& r) { r.dt = 2.0; }, "dt"},
      {"duration not whole steps", [](R& r) { r.duration = 1.05; }, "duration"},
      {"duplicate population", [](R& r) { r.populations.push_back(r.populations[0]); },
       "populations.lif"},
      {"unknown model", [](R& r) { r.populations[0].model = "izhikevich"; },
       "populations.lif.model"},
      {"integrator not offered",
       [](R& r) { r.populations[0].integrator = sim::Integrator::exponential_euler; },
       "populations.lif.integrator"},
      {"missing param", [](R& r) { r.populations[0].params.erase("tau_m"); },
       "populations.lif.params.tau_m"},
      {"unknown param",
       [](R& r) {
         r.populations[0].params["tau_x"] = {1, 1, 1, 1};
       },
       "populations.lif.params.tau_x"},
      {"zero time constant", [](R& r) { r.populations[0].params["tau_m"][2] = 0.0; },
       "populations.lif.params.tau_m"},
      {"negative refractory", [](R& r) { r.populations[0].params["tau_ref"][0] = -1.0; },
       "populations.lif.params.tau_ref"},
      {"param size",
       [](R& r) {
         r.populations[0].params["R"] = {1.0, 1.0};
       },
       "populations.lif.params.R"},
      {"reset above threshold",
       [](R& r) {
         r.populations[0].params["V_reset"] = {2, 2, 2, 2};
       },
       "populations.lif.params.V_reset"},
      {"unknown initial variable",
       [](R& r) {
         r.populations[0].initial["W"] = {0, 0, 0, 0};
       },
       "populations.lif.initial.W"},
      {"initial size", [](R& r) { r.populations[0].initial["V"] = {0}; },
       "populations.lif.initial.V"},
      {"stimulus target", [](R& r) { r.stimuli[0].target = "nope"; }, "stimuli.drive.target"},
      {"stimulus neuron",
       [](R& r) {
         r.stimuli[0].neurons = {1, 4};
       },
       "stimuli.drive.neurons"},
      {"stimulus broadcast",
       [](R& r) {
         r.stimuli[0].values = {1, 2};
       },
       "stimuli.drive.values"},
      {"step times",
       [](R& r) {
         r.stimuli[0].kind = sim::StimulusSpec::Kind::steps;
         r.stimuli[0].times = {0, 5, 5};
         r.stimuli[0].step_values = {{1}, {2}, {3}};
       },
       "stimuli.drive.times"},
      {"OU tau",
       [](R& r) {
         r.stimuli[0].kind = sim::StimulusSpec::Kind::ornstein_uhlenbeck;
         r.stimuli[0].mean = {1};
         r.stimuli[0].sigma = {1};
         r.stimuli[0].tau = 0;
       },
       "stimuli.drive.tau"},
      {"trace variable",
       [](R& r) {
         r.traces[0].variables = {"V", "m"};
       },
       "record.traces.v.variables"},
      {"trace neuron", [](R& r) { r.traces[0].neurons = {7}; }, "record.traces.v.neurons"},
      {"trace every", [](R& r) { r.traces[0].every = 0; }, "record.traces.v.every"},
      {"trace population", [](R& r) { r.traces[0].population = "x"; },
       "record.traces.v.population"},
      {"spike population", [](R& r) { r.spike_populations = {"x"}; }, "record.spikes"},
  };
  for (const auto& c : cases) {
    auto run = good();
    c.edit(run);
    INFO(c.what);
    bool threw = false;
    try {
      sim::Simulation s(run);
    } catch (const sim::SpecError& e) {
      threw = true;
      CHECK(e.key_path == c.key);
      CHECK(std::string(e.what()).size() > 20);  // a sentence, not a code
    }
    CHECK(threw);
  }
}
