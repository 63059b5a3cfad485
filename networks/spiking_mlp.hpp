// A trained rate MLP run as a network of spiking LIF neurons (rate-to-spike conversion):
// every unit of every layer is a normalized LIF neuron (V_L = V_reset = 0, R = 1, the
// layer's tau_m, tau_ref and threshold: the neuron whose rate G the lif_rate activation
// computes), every weight matrix a projection with exponential PSC filters (tau_s), every
// bias a constant input current. The input is either the constant current W x + b of the
// first layer (what the rate network computes) or Poisson spike trains whose rates are
// proportional to the inputs.
//
// Weights. A rate layer computes x = W y + b with y = amplitude * G [Hz]. A spike carries
// the charge w = 1000 * amplitude * W [input * ms]: a neuron firing at G Hz then injects
// the mean current w G / 1000 = W y, the rate network's. Poisson inputs firing at
// max_rate * x / input_max carry w = 1000 * input_max / max_rate * W for the same reason.
//
// Dynamics: those of the engine's exact LIF with exponential PSCs (sim/lif_population.cpp),
// so the two give the same spikes (tests/test_spiking_mlp.cpp). Over a step of dt, V and
// the synaptic current I are one linear system integrated exactly; a threshold crossing
// inside the step is solved for (in closed form without synaptic current, by safeguarded
// Newton on the exact V(t) with it) and the rest of the step is carried into the
// refractory period. A spike during step k is stamped t_{k+1} and arrives, after the
// engine's minimal delay of one step, at t_{k+2}, making I jump by w / tau_s.
//
// Speed: samples are independent, so a batch of them is simulated at once as (neurons,
// batch) arrays: the first layer's constant current is one matrix product per batch; the
// neuron update is one vectorised pass, with the rare spiking and refractory-ending
// neurons done one at a time; spikes are few, so they are delivered event by event (the
// target layer's weight column added into the arriving current of that sample). Batches
// run in parallel; each sample's result depends only on its own data and seed, so the
// results are the same for any thread count and batch size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace ranvier::networks {

// One layer of normalized LIF neurons and the weights into it.
struct SpikingLayer {
  Eigen::MatrixXd W;        // (n_out, n_in) trained weights [1]
  Eigen::VectorXd b;        // (n_out) bias: a constant input current [units of x]
  double tau_m = 20.0;      // membrane time constant [ms], > 0
  double tau_ref = 2.0;     // refractory period [ms], >= 0
  double threshold = 1.0;   // V_th [units of x], > 0
  double amplitude = 0.01;  // rate layer's output per Hz [1/Hz]: scales its spikes' charge
};

enum class SpikeInput { current, poisson };
enum class SpikeDecode { filtered, count };

struct SpikingMlpSpec {
  int inputs = 1;
  std::vector<SpikingLayer> layers;  // hidden layers, then the output layer
  double dt = 1.0;                   // step [ms], > 0
  double duration = 50.0;            // simulated time per sample [ms], >= dt
  double tau_s = 5.0;                // PSC time constant of every projection [ms], > 0
  SpikeInput input = SpikeInput::current;
  double max_rate = 200.0;  // poisson: rate of an input equal to input_max [Hz], > 0
  double input_max = 1.0;   // poisson: the input value that fires at max_rate, > 0
  SpikeDecode decode = SpikeDecode::filtered;
  // filtered: the output layer's input current (W h filtered by the PSCs, plus b) is
  // averaged over [decode_from, duration) and the class is its argmax. count: the most
  // spikes over the whole duration (ties broken by the filtered current).
  double decode_from = 0.0;  // [ms], in [0, duration)
  std::uint64_t seed = 1;    // poisson inputs: sample i uses the stream (seed, i)
};

// Empty if the spec can be run; otherwise what is wrong.
std::string check_spec(const SpikingMlpSpec& spec);

struct RasterSpike {
  int layer = 0;
  int neuron = 0;
  double t = 0;  // [ms] from the start of the sample
};

// Results of samples [0, n): column j of the matrices is sample j.
struct SpikingResults {
  std::vector<int> predicted;                     // decoded class
  Eigen::MatrixXi layer_spikes;                   // (layers, n) spikes per layer
  Eigen::MatrixXi output_counts;                  // (n_out, n) spikes of the output neurons
  Eigen::MatrixXd output_current;                 // (n_out, n) decoded mean input current [x]
  std::vector<std::vector<RasterSpike>> rasters;  // per sample; filled for recorded ones
  void resize(int layers, int n_out, int n);
};

class SpikingMlp {
  struct Workspace;  // a thread's buffers (spiking_mlp.cpp)

 public:
  explicit SpikingMlp(SpikingMlpSpec spec);  // checks (std::invalid_argument) and lowers
  const SpikingMlpSpec& spec() const { return spec_; }
  int steps() const { return steps_; }

  // Simulates samples X.col(first) .. X.col(first + count - 1) (X: (inputs, n), the
  // network's input as the rate network sees it) on `threads` threads and writes their
  // results into column first + j of `out` (sized by the caller for all n samples).
  // Samples j with record[first + j] != 0 get their spikes in out.rasters.
  void run(const Eigen::Ref<const Eigen::MatrixXf>& X, int first, int count, int threads,
           SpikingResults& out, const std::vector<char>& record = {}) const;

  // Samples per batch of the vectorised kernel.
  static constexpr int kBatch = 32;

  // A thread's buffers for run_batch, reused from batch to batch.
  class Scratch {
   public:
    Scratch();
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

   private:
    friend class SpikingMlp;
    std::unique_ptr<Workspace> ws_;
  };
  // One batch on the calling thread, for callers that schedule the batches themselves
  // (spike-eval overlaps reading the test set and the rate network with them): samples
  // first .. first + count - 1 (count <= kBatch), their inputs the columns of Xb. The
  // same results as run() gives them. Inside a parallel region, or with
  // Eigen::setNbThreads(1): the batch's matrix product must not start threads.
  void run_batch(const Eigen::Ref<const Eigen::MatrixXf>& Xb, int first, int count,
                 SpikingResults& out, const std::vector<char>& record, Scratch& scratch) const;

 private:
  struct Lowered {
    // (n_out, n_in): the charge w of a spike arriving through each synapse, in float as
    // the engine stores weights (half the memory traffic of the event-driven delivery);
    // the arrivals are summed in float and scaled by 1 / tau_s (the current's jump) in
    // double when they arrive.
    Eigen::MatrixXf Wc;
    double P = 0;          // e^(-dt/tau_m)
    double P21 = 0;        // coupling of I into V over dt (models/psc_filter.hpp)
    bool synaptic = true;  // receives spikes (all but layer 0 with current input)
  };
  // Samples first .. first + count - 1, their inputs X's columns from x_col.
  void simulate(const Eigen::Ref<const Eigen::MatrixXf>& X, int x_col, int first, int count,
                SpikingResults& out, const std::vector<char>& record, Workspace& ws) const;

  SpikingMlpSpec spec_;
  std::vector<Lowered> low_;
  double Ps_ = 0;  // e^(-dt/tau_s)
  int steps_ = 0;
  int decode_step_ = 0;  // first step of the filtered decoding window
};

}  // namespace ranvier::networks
