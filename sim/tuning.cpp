#include "sim/tuning.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "models/lif_gain_bias.hpp"

namespace ranvier::sim {

namespace {

// Keeps, per neuron, what 1 / mean ISI needs: the first and last spike after the
// transient and how many there were. The mean ISI is (last - first) / (count - 1).
class RateSink final : public RunSink {
 public:
  RateSink(std::size_t n, double transient)
      : transient_(transient), count_(n, 0), first_(n, 0.0), last_(n, 0.0) {}
  void spikes(std::size_t, std::span<const Spike> spikes) override {
    for (const Spike& s : spikes) {
      if (s.t < transient_) continue;
      if (count_[s.neuron]++ == 0) first_[s.neuron] = s.t;
      last_[s.neuron] = s.t;
    }
  }
  void trace_sample(std::size_t, double, std::span<const double>) override {}
  double rate(std::size_t i) const {
    if (count_[i] < 2) return 0.0;
    return 1000.0 * static_cast<double>(count_[i] - 1) / (last_[i] - first_[i]);
  }

 private:
  double transient_;
  std::vector<std::uint64_t> count_;
  std::vector<double> first_, last_;
};

}  // namespace

std::vector<double> simulate_rates(const PopulationSpec& pop, std::span<const double> inputs,
                                   std::size_t points, const SweepSettings& settings,
                                   const ProgressFn& progress) {
  const std::size_t n = pop.size;
  if (inputs.size() != points * n)
    throw std::invalid_argument("simulate_rates: inputs must hold points * size values");
  if (!(settings.transient >= 0) || !(settings.transient < settings.duration))
    throw SpecError("sweep.transient",
                    fmt::format("the transient ({} ms) must be shorter than the time simulated at "
                                "each input ({} ms), or no spikes are left to measure",
                                settings.transient, settings.duration));
  RunSpec run;
  run.dt = settings.dt;
  run.duration = settings.duration;
  run.seed = settings.seed;
  PopulationSpec big = pop;
  big.size = points * n;
  // Point p is a copy of the population: neuron p * n + i has neuron i's parameters.
  for (auto* table : {&big.params, &big.initial}) {
    for (auto& [name, values] : *table) {
      std::vector<double> tiled;
      tiled.reserve(points * n);
      for (std::size_t p = 0; p < points; ++p)
        tiled.insert(tiled.end(), values.begin(), values.end());
      values = std::move(tiled);
    }
  }
  run.populations.push_back(std::move(big));
  StimulusSpec drive;
  drive.name = "sweep";
  drive.target = pop.name;
  drive.kind = StimulusSpec::Kind::constant;
  drive.values.assign(inputs.begin(), inputs.end());
  run.stimuli.push_back(std::move(drive));
  run.spike_populations = {pop.name};

  Simulation sim(run, RunOptions{settings.threads});
  RateSink sink(points * n, settings.transient);
  sim.run(sink, progress);
  std::vector<double> rates(points * n);
  for (std::size_t k = 0; k < rates.size(); ++k) rates[k] = sink.rate(k);
  return rates;
}

std::vector<double> input_for_rate(const PopulationSpec& pop, std::span<const double> target_hz,
                                   double lo, double hi, double tolerance,
                                   const SweepSettings& settings, std::size_t per_round,
                                   const ProgressFn& progress) {
  const std::size_t n = pop.size;
  auto reached = [&](std::size_t i, double rate) {
    return target_hz[i] == 0.0 ? rate > 0.0 : rate >= target_hz[i];
  };
  // Both ends first: the answer must lie inside [lo, hi].
  std::vector<double> ends(2 * n);
  std::fill(ends.begin(), ends.begin() + n, lo);
  std::fill(ends.begin() + n, ends.end(), hi);
  const std::vector<double> end_rates = simulate_rates(pop, ends, 2, settings, progress);
  std::vector<double> a(n, lo), b(n, hi);  // invariant: not reached at a, reached at b
  for (std::size_t i = 0; i < n; ++i) {
    if (!reached(i, end_rates[n + i]))
      throw std::domain_error(fmt::format(
          "neuron {} does not {} below an input of {} (its rate there: {:.4g} Hz)", i,
          target_hz[i] == 0.0 ? "fire repeatedly" : fmt::format("reach {} Hz", target_hz[i]), hi,
          end_rates[n + i]));
    if (reached(i, end_rates[i])) b[i] = a[i] = lo;
  }
  // Each round divides every bracket into per_round + 1 parts.
  while (true) {
    double widest = 0.0;
    for (std::size_t i = 0; i < n; ++i) widest = std::max(widest, b[i] - a[i]);
    if (widest <= tolerance) break;
    std::vector<double> inputs(per_round * n);
    for (std::size_t k = 0; k < per_round; ++k)
      for (std::size_t i = 0; i < n; ++i)
        inputs[k * n + i] =
            a[i] + (b[i] - a[i]) * static_cast<double>(k + 1) / static_cast<double>(per_round + 1);
    const std::vector<double> rates = simulate_rates(pop, inputs, per_round, settings, progress);
    for (std::size_t i = 0; i < n; ++i) {
      if (b[i] - a[i] <= tolerance) continue;
      double new_a = a[i], new_b = b[i];
      for (std::size_t k = 0; k < per_round; ++k) {
        if (reached(i, rates[k * n + i])) {
          new_b = inputs[k * n + i];
          break;
        }
        new_a = inputs[k * n + i];
      }
      a[i] = new_a;
      b[i] = new_b;
    }
  }
  return b;
}

namespace {

models::LifRateParams lif_params_of(const PopulationSpec& pop, std::size_t i) {
  const auto& p = pop.params;
  return {p.at("V_L")[i], p.at("V_th")[i],  p.at("V_reset")[i],
          p.at("R")[i],   p.at("tau_m")[i], p.at("tau_ref")[i]};
}

}  // namespace

GainBias solve_gain_bias(const PopulationSpec& pop, const EncodingSpec& enc,
                         const SweepSettings& settings, const ProgressFn& progress) {
  const std::size_t n = pop.size;
  GainBias gb{std::vector<double>(n), std::vector<double>(n)};
  for (std::size_t i = 0; i < n; ++i)
    if (!(enc.intercept[i] < 1.0))
      throw std::domain_error(fmt::format(
          "neuron {}: an intercept of {} leaves no range to fire in (intercepts must be below 1)",
          i, enc.intercept[i]));
  if (pop.model == "lif") {
    for (std::size_t i = 0; i < n; ++i) {
      try {
        const models::GainBias g =
            models::lif_gain_bias(lif_params_of(pop, i), enc.max_rate[i], enc.intercept[i]);
        gb.gain[i] = g.gain;
        gb.bias[i] = g.bias;
      } catch (const std::domain_error& e) {
        throw std::domain_error(fmt::format("neuron {}: {}", i, e.what()));
      }
    }
    return gb;
  }
  // No closed form: the onset of repetitive firing and the input of the maximum rate,
  // both located on the neuron's own simulated f-I curve.
  const std::vector<double> zero(n, 0.0);
  const std::vector<double> j_th = input_for_rate(pop, zero, enc.search_from, enc.search_to,
                                                  enc.tolerance, settings, 16, progress);
  const std::vector<double> j_max = input_for_rate(
      pop, enc.max_rate, enc.search_from, enc.search_to, enc.tolerance, settings, 16, progress);
  for (std::size_t i = 0; i < n; ++i) {
    gb.gain[i] = (j_max[i] - j_th[i]) / (1.0 - enc.intercept[i]);
    gb.bias[i] = j_th[i] - gb.gain[i] * enc.intercept[i];
  }
  return gb;
}

std::vector<double> encoded_inputs(const EncodingSpec& enc, const GainBias& gb,
                                   std::span<const double> s) {
  const std::size_t n = gb.gain.size(), d = enc.dimensions;
  std::vector<double> projection(n, 0.0);  // e_i . direction
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < d; ++k) projection[i] += enc.encoders[i * d + k] * enc.direction[k];
  std::vector<double> J(s.size() * n);
  for (std::size_t p = 0; p < s.size(); ++p)
    for (std::size_t i = 0; i < n; ++i)
      J[p * n + i] = gb.gain[i] * projection[i] * s[p] + gb.bias[i];
  return J;
}

std::vector<double> analytic_lif_rates(const PopulationSpec& pop, std::span<const double> inputs,
                                       std::size_t points) {
  const std::size_t n = pop.size;
  std::vector<double> rates(points * n);
  for (std::size_t i = 0; i < n; ++i) {
    const models::LifRateParams params = lif_params_of(pop, i);
    for (std::size_t p = 0; p < points; ++p)
      rates[p * n + i] = models::lif_rate(params, inputs[p * n + i]);
  }
  return rates;
}

}  // namespace ranvier::sim
