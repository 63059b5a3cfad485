// Synaptic input of a run: the projections' synapse tables, the spike sources, a delay
// ring buffer per target population and channel, and the PSC filters.
//
// Delivery. A spike of a population during step k (in [t_k, t_k + dt)) is stamped t_{k+1};
// a source spike at time t is stamped at the next grid time (sim/spike_sources.hpp). A
// synapse with delay D steps appends an event (target, weight) to slot (stamp + D) mod L of
// its target channel's ring, L = max delay + 1 slots. At the start of step m, slot m holds
// the events arriving at t_m: each makes the channel's current jump by w / tau_s (the PSC
// filter, models/psc_filter.hpp), exactly at stamp + delay. Events rather than one dense
// array per slot: a step's arrivals are few compared with the neurons (CUBA: ~180 for 4000
// neurons), so the neuron update reads no arrival arrays at all. Spikes
// are delivered in the order the populations hand them out (time, then neuron), one
// projection after the other, so the sums, and with them every result, are the same for any
// number of threads.
//
// Integration. Exponential channels onto a LIF population with the exact integrator are
// handed to the population, which integrates V and the currents as one linear system
// (Population::attach_exp_synapses). Every other channel (alpha and higher orders, HH, LIF
// with Odeint) is filtered here with the cascade's exact propagator, and the exact charge it
// delivers during the step, divided by dt, is added to the population's input, which the
// population holds over the step like a stimulus.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sim/population.hpp"
#include "sim/spec.hpp"
#include "sim/spike_sources.hpp"

namespace ranvier::sim {

// Checks projections and spike sources (names, rules, weights, delays, filters); throws
// SpecError with the key path ("projections.<name>.p", "sources.<name>.rate"...).
void validate_network(const RunSpec&);

// The synaptic channels of population `population`, in the order of their first
// projection: each projection's `channel`, or "exc"/"inh" by the sign of its weight.
std::vector<std::string> channel_names(const RunSpec&, const std::string& population);

class SynapticNetwork {
 public:
  // Builds the synapse tables (rows on up to `threads` threads, the same for any count)
  // and attaches exponential channels to the populations that integrate them exactly.
  SynapticNetwork(const RunSpec&, std::vector<std::unique_ptr<Population>>& pops, int threads);
  ~SynapticNetwork();
  SynapticNetwork(SynapticNetwork&&) noexcept;
  SynapticNetwork& operator=(SynapticNetwork&&) noexcept;

  bool empty() const;
  // Start of step k: emits the spike sources' spikes stamped k, hands the arrivals of
  // step k to the populations, and adds the filtered channels' step-average current to
  // input[p].
  void begin_step(std::size_t k, std::vector<std::vector<double>>& input);
  // End of step k: delivers the populations' spikes of the step (stamped k + 1).
  void deliver(std::size_t k, const std::vector<std::vector<Spike>>& spikes);
  // Team stepping (Simulation's parallel loop), only when splits(): every channel is
  // integrated by its population (none is filtered here into `input`). After
  // split_targets for every population, each thread q of the team keeps its own queue of
  // what arrives in its own ranges of the targets. The one-thread loop's begin_step(k)
  // and deliver(k) become:
  // - emit_sources(j) on thread 0: the sources' spikes stamped j, queued by no one yet;
  // - queue_sources(j, q) and queue_spikes(j, q) on each thread q, once every thread is
  //   done with step j: queue for q's targets the sources' spikes stamped j and the
  //   populations' spikes of step j (Population::part_spikes), in the one-thread order
  //   (sources j, spikes j, sources j + 1, ...);
  // - arrive_part(k, p, q) on each thread q: step k's arrivals into q's range of
  //   population p, from q's queue, which it then empties; or, stepping in pairs,
  //   arrive_part_block for blocks of the range (as arrive_block), then clear_part.
  // Thread 0 may emit up to two steps ahead of what the others queue (four buffers).
  bool splits() const;
  void emit_sources(std::size_t k);
  // Sources whose spikes emit_sources must produce even without projections (recorded).
  void keep_emitting(std::size_t source);
  // The spikes of source `source` emitted by the last emit_sources (or begin_step).
  std::span<const SourceSpike> emitted(std::size_t source) const;
  void queue_sources(std::size_t j, std::size_t part);
  void queue_spikes(std::size_t j, std::size_t part);
  void arrive_part_block(std::size_t k, std::size_t p, std::size_t part, std::size_t lo,
                         std::size_t hi, bool descending);
  void clear_part(std::size_t k, std::size_t part);
  void arrive_part(std::size_t k, std::size_t p, std::size_t part);
  // For a team with fixed ranges [lo[q], lo[q + 1]) of population p: copies each
  // constant-delay projection onto p into one table per range, holding each row's
  // synapses onto that range with targets relative to lo[q] (2 bytes a target where the
  // range has at most 65536 neurons, else 4; the weights as the table's; 8 bytes of row
  // offsets per source neuron and range), so that a thread queues and loads just its part
  // of a row, and sets up the threads' queues.
  void split_targets(std::size_t p, const std::vector<std::uint32_t>& lo);
  // Starts loading the synapse rows that arrive at step k into the calling thread's
  // cache: a hint, called near the end of step k - 1 by the one-thread loop. Only the
  // rows into population `pop`, if one is given.
  void prefetch_arrivals(std::size_t k, std::size_t pop = npos) const;
  // The same for thread `part` of a team: its own rows' parts.
  void prefetch_part(std::size_t k, std::size_t part, std::size_t pop = npos) const;
  void clear_arrivals(std::size_t k);
  // Paired stepping (Population::advance_pair), the arrivals of step k block by block:
  // arrive_block(k, p, lo, hi, descending) for the blocks of population p in ascending
  // order from lo = 0 (descending false) or in descending order from hi = its size
  // (descending true), then clear_arrivals(k). Only when steps_in_pairs(): splits(), and
  // no drawn delays (a step's arrivals are whole rows, whose targets ascend).
  bool steps_in_pairs() const;
  void arrive_block(std::size_t k, std::size_t p, std::size_t lo, std::size_t hi, bool descending);
  // Whether population p receives filtered (not exactly integrated) synaptic current
  // through its `input` each step.
  bool filters_into(std::size_t p) const;
  // Index of channel `name` of population p, or npos if it has none of that name.
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t find_channel(std::size_t p, const std::string& name) const;
  // The current of channel `ch` at the start of the current step, arrivals included
  // (PSC filter output, input quantity) of `neurons` (all if empty), copied into out.
  void read_current(std::size_t ch, std::span<const std::uint32_t> neurons,
                    std::span<double> out) const;
  std::size_t synapse_count() const;  // over all projections
  std::size_t synapse_bytes() const;  // of the tables (targets, weights, delays, rows), and
                                      //   of a team's part tables (split_targets)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ranvier::sim
