#include "sim/synapses.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>

#include "models/psc_filter.hpp"
#include "sim/chunks.hpp"
#include "sim/spike_sources.hpp"

namespace ranvier::sim {
namespace {

constexpr unsigned kMaxOrder = 10;

std::string default_channel(const ProjectionSpec& p) {
  return p.channel.empty() ? (p.weight.a >= 0 ? "exc" : "inh") : p.channel;
}

// Names of the populations and sources, quoted, for messages.
std::string node_names(const RunSpec& s, bool with_sources) {
  std::string r;
  for (const auto& p : s.populations) r += (r.empty() ? "'" : ", '") + p.name + "'";
  if (with_sources)
    for (const auto& p : s.sources) r += (r.empty() ? "'" : ", '") + p.name + "' (source)";
  return r.empty() ? "none" : r;
}

// Size of population or source `name`, 0 if none; *is_source tells which.
std::size_t node_size(const RunSpec& s, const std::string& name, bool* is_source,
                      std::size_t* index) {
  for (std::size_t i = 0; i < s.populations.size(); ++i)
    if (s.populations[i].name == name) {
      *is_source = false;
      *index = i;
      return s.populations[i].size;
    }
  for (std::size_t i = 0; i < s.sources.size(); ++i)
    if (s.sources[i].name == name) {
      *is_source = true;
      *index = i;
      return s.sources[i].size;
    }
  return 0;
}

networks::ProjectionWiring wiring(const RunSpec& s, const ProjectionSpec& p, std::size_t index) {
  bool src_is_source = false, dummy = false;
  std::size_t si = 0, ti = 0;
  networks::ProjectionWiring w;
  w.n_source = node_size(s, p.source, &src_is_source, &si);
  w.n_target = node_size(s, p.target, &dummy, &ti);
  w.same_population = !src_is_source && p.source == p.target;
  w.rule = p.rule;
  w.weight = p.weight;
  w.delay = p.delay;
  w.dt = s.dt;
  w.seed = s.seed;
  w.projection = static_cast<std::uint32_t>(index);
  return w;
}

void validate_source(const SpikeSourceSpec& src) {
  const std::string key = "sources." + src.name;
  if (src.size == 0)
    throw SpecError(key + ".size", fmt::format("source '{}' has no neurons", src.name));
  if (src.kind == SpikeSourceSpec::Kind::poisson) {
    if (src.rate_hz.size() != 1 && src.rate_hz.size() != src.size)
      throw SpecError(key + ".rate", fmt::format("source '{}': rate needs 1 value or one per "
                                                 "source ({}), got {}",
                                                 src.name, src.size, src.rate_hz.size()));
    for (double r : src.rate_hz)
      if (!(r >= 0) || !std::isfinite(r))
        throw SpecError(key + ".rate", fmt::format("source '{}': a rate must be finite and >= 0 "
                                                   "Hz, got {}",
                                                   src.name, r));
    if (std::isnan(src.start) || std::isnan(src.stop) || !(src.start <= src.stop) || src.start < 0)
      throw SpecError(key + ".stop",
                      fmt::format("source '{}': needs 0 <= start <= stop", src.name));
  } else {
    if (src.times.size() != 1 && src.times.size() != src.size)
      throw SpecError(key + ".times", fmt::format("source '{}': times needs one list for all "
                                                  "sources or one per source ({}), got {}",
                                                  src.name, src.size, src.times.size()));
    for (const auto& list : src.times)
      for (double t : list)
        if (!(t >= 0) || !std::isfinite(t))
          throw SpecError(key + ".times", fmt::format("source '{}': spike times must be finite "
                                                      "and >= 0 ms, got {}",
                                                      src.name, t));
  }
}

}  // namespace

void validate_network(const RunSpec& s) {
  std::set<std::string> names;
  for (const auto& r : s.rates) {
    std::size_t idx = 0;
    bool is_source = false;
    if (node_size(s, r.population, &is_source, &idx) == 0 || is_source)
      throw SpecError("record.rates", fmt::format("rate of unknown population '{}' requested "
                                                  "(populations: {})",
                                                  r.population, node_names(s, false)));
    if (r.bin < 1)
      throw SpecError("record.rates." + r.population, "a rate bin must be at least one step");
  }
  for (const auto& p : s.populations) names.insert(p.name);
  for (const auto& src : s.sources) {
    if (!names.insert(src.name).second)
      throw SpecError(
          "sources." + src.name,
          fmt::format("source name '{}' is already used by a population or source", src.name));
    validate_source(src);
  }
  names.clear();
  std::map<std::pair<std::string, std::string>, const ProjectionSpec*> channels;
  for (std::size_t pi = 0; pi < s.projections.size(); ++pi) {
    const ProjectionSpec& p = s.projections[pi];
    const std::string key = "projections." + p.name;
    if (!names.insert(p.name).second)
      throw SpecError(key, fmt::format("projection name '{}' is used twice", p.name));
    bool is_source = false;
    std::size_t idx = 0;
    if (node_size(s, p.source, &is_source, &idx) == 0)
      throw SpecError(key + ".source", fmt::format("projection '{}': no population or source "
                                                   "'{}' (known: {})",
                                                   p.name, p.source, node_names(s, true)));
    if (node_size(s, p.target, &is_source, &idx) == 0 || is_source)
      throw SpecError(key + ".target", fmt::format("projection '{}': no population '{}' to "
                                                   "target (populations: {})",
                                                   p.name, p.target, node_names(s, false)));
    if (!(p.tau > 0) || !std::isfinite(p.tau))
      throw SpecError(key + ".synapse.tau", fmt::format("projection '{}': the PSC time constant "
                                                        "must be > 0, got {} ms",
                                                        p.name, p.tau));
    if (p.order > kMaxOrder)
      throw SpecError(key + ".synapse.order", fmt::format("projection '{}': filter order {} is "
                                                          "above {}",
                                                          p.name, p.order, kMaxOrder));
    using K = networks::ConnectionRule::Kind;
    if (p.rule.kind == K::fixed_probability && !(p.rule.p >= 0 && p.rule.p <= 1))
      throw SpecError(key + ".p", fmt::format("projection '{}': p must be in [0, 1], got {}",
                                              p.name, p.rule.p));
    if (!(p.delay.a >= s.dt * (1 - 1e-9)))  // a constant, a mean or a uniform's low
      throw SpecError(key + ".delay", fmt::format("projection '{}': the delay ({} ms) must be at "
                                                  "least dt ({} ms)",
                                                  p.name, p.delay.a, s.dt));
    if (auto e = p.weight.check(); !e.empty())
      throw SpecError(key + ".weight", fmt::format("projection '{}': weight: {}", p.name, e));
    if (auto e = p.delay.check(); !e.empty())
      throw SpecError(key + ".delay", fmt::format("projection '{}': delay: {}", p.name, e));
    try {
      networks::check(wiring(s, p, pi));
    } catch (const networks::WiringError& e) {
      const char* field = p.rule.kind == K::matrix           ? ".matrix"
                          : p.rule.kind == K::fixed_indegree ? ".indegree"
                                                             : ".rule";
      throw SpecError(key + field, fmt::format("projection '{}': {}", p.name, e.what()));
    }
    const auto ch = std::pair{p.target, default_channel(p)};
    if (auto it = channels.find(ch); it != channels.end()) {
      const ProjectionSpec& q = *it->second;
      if (q.tau != p.tau || q.order != p.order)
        throw SpecError(key + ".synapse",
                        fmt::format("projection '{}': channel '{}' of population '{}' already has "
                                    "the filter of projection '{}' (tau {} ms, order {}); give "
                                    "this one another channel",
                                    p.name, ch.second, p.target, q.name, q.tau, q.order));
    } else {
      channels.emplace(ch, &p);
    }
  }
}

std::vector<std::string> channel_names(const RunSpec& s, const std::string& population) {
  std::vector<std::string> r;
  for (const auto& p : s.projections)
    if (p.target == population) {
      const std::string ch = default_channel(p);
      if (std::find(r.begin(), r.end(), ch) == r.end()) r.push_back(ch);
    }
  return r;
}

// ---------------------------------------------------------------------------------------

struct SynapticNetwork::Impl {
  // What arrives in one step: whole rows of constant-delay projections (the common case:
  // queued in O(1) per spike and scattered on arrival, so no per-synapse event is ever
  // written), and single synapses of projections with drawn delays.
  struct RowRef {
    std::uint32_t projection, source;
    double count;  // spikes (a Poisson source may put several in one step)
    // The row's synapses [begin, end) in the projection's whole table (in a team's rings:
    // in the thread's part table, Projection::parts), read by push():
    // the one-thread arrivals need no second look at the row offsets, whose line had
    // left the cache again by then (CUBA at 64000 neurons: 13% of arrive() on that load).
    std::uint64_t begin, end;
  };
  struct Event {
    std::uint32_t target;
    double weight;
  };
  struct Slot {
    std::vector<RowRef> rows;
    std::vector<Event> events;
  };
  struct Channel {
    std::string name;
    std::size_t pop = 0;
    std::size_t n = 0;  // neurons of the target
    double tau = 0;
    unsigned order = 0;
    bool exact = false;           // integrated by the population
    std::size_t exact_index = 0;  // ... as its channel number
    std::vector<Slot> ring;       // L slots
    // A team's (split_targets): a ring of L slots for each thread, thread q's at [q L, (q +
    // 1) L), holding only what arrives in its own range of the targets (queue_spikes).
    std::vector<Slot> part_ring;
    std::vector<std::vector<std::size_t>> part_cursor;  // thread q, step parity j: [2 q + j]
    double* jump = nullptr;  // where arrivals add w / tau: the population's current
                             //   (exact) or stage 0 of the cascade below
    models::PscPropagator prop;
    std::vector<double> stage;  // (order + 1, n): filtered channels' cascade state
    // arrive_block: where each row of the slot of step j (at [j % 2]) goes on from.
    std::vector<std::size_t> cursor[2];
  };
  // One thread's part of a projection's table (Projection::parts).
  struct PartTable {
    std::uint32_t first = 0;  // the range's first target: targets are stored relative to it
    bool narrow = false;      // targets in target16 (else target32)
    networks::Connectivity::Array<std::uint64_t> row;  // (n_source + 1) offsets
    networks::Connectivity::Array<std::uint16_t> target16;
    networks::Connectivity::Array<std::uint32_t> target32;
    networks::Connectivity::Array<float> weight;  // empty if every weight is weight_const
    std::size_t bytes() const {
      return row.size() * sizeof(std::uint64_t) + target16.size() * sizeof(std::uint16_t) +
             target32.size() * sizeof(std::uint32_t) + weight.size() * sizeof(float);
    }
  };
  // Where the synapses of a queued row lie: the projection's table (absolute targets) or a
  // thread's part table (targets relative to its first), with their weights.
  struct RowData {
    const void* target;
    std::uint32_t first;  // what the targets count from: 0, or the part's range start
    bool narrow;
    const float* weight;  // null: every weight is weight_const
    double weight_const;
  };
  struct Projection {
    networks::Connectivity table;
    std::size_t channel = 0;
    bool from_source = false;
    std::size_t source = 0;  // population or source index
    // A team's (split_targets) copy of the table for each thread q, cut to the range
    // [lo_q, lo_q+1) of the targets that thread owns: each row's synapses onto the range, in
    // table order, with the targets relative to lo_q, in 16 bits where the range has at most
    // 65536 neurons. A thread then queues and loads only its own part of a spiking row, in
    // half the bytes: a 40-synapse part of a CUBA row at 64000 neurons is 80 bytes, about
    // 2.2 lines, against 160 bytes and 3.4 lines as 32-bit targets (each line a miss to L3,
    // loaded once when queued and again when it arrives). Its row offsets are the thread's
    // own array, so a spike costs each thread one line of offsets, as the shared table's does.
    std::vector<PartTable> parts;  // P tables, or none (one thread, or drawn delays)
  };

  // Tells each population which row offsets deliver() reads for its spikes (one thread;
  // a team's threads load their parts' records themselves, in queue_spikes).
  void hand_spike_rows() {
    for (std::size_t p = 0; p < pops.size(); ++p) {
      std::vector<SpikeRows> rows;
      for (auto pi : proj_of_pop[p]) rows.push_back({projections[pi].table.row.data()});
      pops[p]->set_spike_prefetch(std::move(rows));
    }
  }

  // Cuts the constant-delay projections onto population p by the ranges [lo_q, lo_q+1).
  void split_targets(std::size_t p, const std::vector<std::uint32_t>& lo) {
    team_parts = lo.size() - 1;
    merge_scratch.resize(team_parts);
    pop_part_lo[p] = lo;
    for (auto& ch : channels)
      if (ch.pop == p) {
        ch.part_ring.assign(team_parts * ch.ring.size(), {});
        ch.part_cursor.assign(2 * team_parts, {});
      }
    for (auto& pr : projections) {
      const auto& t = pr.table;
      if (channels[pr.channel].pop != p || !t.delay.empty()) continue;
      const std::size_t P = lo.size() - 1;
      pr.parts.assign(P, {});
      for (std::size_t q = 0; q < P; ++q) {
        PartTable& pt = pr.parts[q];
        pt.first = lo[q];
        pt.narrow = lo[q + 1] - lo[q] <= std::size_t{1} << 16;
        pt.row.assign(t.n_source + 1, 0);
        const std::uint32_t* tgt = t.target.data();
        std::uint64_t n = 0;  // the range's synapses: one pass to size, one to fill
        for (std::size_t i = 0; i < t.n_source; ++i) {
          const std::uint32_t *b = tgt + t.row[i], *e = tgt + t.row[i + 1];
          n += static_cast<std::uint64_t>(std::lower_bound(b, e, lo[q + 1]) -
                                          std::lower_bound(b, e, lo[q]));
        }
        (pt.narrow ? pt.target16.resize(n) : pt.target32.resize(n));
        if (!t.weight.empty()) pt.weight.resize(n);
        std::uint64_t s = 0;
        for (std::size_t i = 0; i < t.n_source; ++i) {
          pt.row[i] = s;
          const std::uint32_t *b = tgt + t.row[i], *e = tgt + t.row[i + 1];
          const std::uint32_t* from = std::lower_bound(b, e, lo[q]);
          const std::uint32_t* to = std::lower_bound(from, e, lo[q + 1]);
          for (const std::uint32_t* x = from; x < to; ++x, ++s) {
            if (pt.narrow)
              pt.target16[s] = static_cast<std::uint16_t>(*x - lo[q]);
            else
              pt.target32[s] = *x - lo[q];
            if (!t.weight.empty()) pt.weight[s] = t.weight[static_cast<std::size_t>(x - tgt)];
          }
        }
        pt.row[t.n_source] = s;
      }
    }
  }

  RowData row_data(const RowRef& r, std::size_t q) const {
    const Projection& pr = projections[r.projection];
    if (q == npos || pr.parts.empty()) {
      const auto& t = pr.table;
      return {t.target.data(), 0, false, t.weight.empty() ? nullptr : t.weight.data(),
              t.weight_const};
    }
    const PartTable& pt = pr.parts[q];
    return {pt.narrow ? static_cast<const void*>(pt.target16.data()) : pt.target32.data(), pt.first,
            pt.narrow, pt.weight.empty() ? nullptr : pt.weight.data(), pr.table.weight_const};
  }

  double dt = 0.1;
  // A team's threads, once split_targets has cut the tables for them (0: no team), and
  // per population the ranges [lo[q], lo[q + 1]) they own.
  std::size_t team_parts = 0;
  std::vector<std::vector<std::uint32_t>> pop_part_lo;
  std::vector<Channel> channels;
  std::vector<Projection> projections;
  std::vector<SpikeSourceGroup> sources;
  std::vector<std::vector<std::size_t>> proj_of_pop, proj_of_source;  // outgoing projections
  std::vector<Population*> pops;
  // Per source, its spikes of four steps in turn: a team's threads queue those of steps k
  // - 1 and k (queue_sources) while thread 0 emits those of k + 1 and k + 2.
  static constexpr std::size_t kSourceBuffers = 4;
  std::array<std::vector<std::vector<SourceSpike>>, kSourceBuffers> emitted;
  std::size_t last_emitted = 0;     // which buffer emit_sources filled last
  std::vector<char> keep_emitting;  // per source: recorded, emit even unconnected
  // Per thread of a team: the step's spikes of a population, merged (queue_spikes); a line
  // each, since each thread resizes its own.
  struct alignas(64) MergeScratch {
    std::vector<Spike> spikes;
  };
  std::vector<MergeScratch> merge_scratch;

  // Prefetches the lines of [b, e): Locality 2 into L2 (rows queued a step or more ahead),
  // 3 into L1 (rows about to arrive). From the start of b's line: stepping 64 bytes from b
  // itself left out the last line whenever b was not at a line's start (a 32-synapse piece,
  // 128 bytes, lies on three lines but got two prefetches).
  template <int Locality = 2, class T>
  static void prefetch(const T* b, const T* e) {
    if (b == e) return;
    const auto first = reinterpret_cast<std::uintptr_t>(b) & ~std::uintptr_t{63};
    const auto end = reinterpret_cast<std::uintptr_t>(e);
    for (std::uintptr_t p = first; p < end; p += 64)
      __builtin_prefetch(reinterpret_cast<const void*>(p), 0, Locality);
  }

  // Loads the rows that arrive at step k (targets and weights) from L3 into L1, at the end
  // of step k - 1. push() already brought them into L2, but at 64000 neurons the next
  // step's pass over the neurons (1.5 MB) pushes them out to L3 again before they arrive.
  // Only the rows into population `pop` if pop != npos: the paired loop calls it just
  // before each population's pass (its rows loaded at the start of the pair were gone by
  // the time the last population came).
  void prefetch_arrivals(std::size_t k, std::size_t pop) const {
    for (const Channel& ch : channels)
      if (pop == npos || ch.pop == pop) prefetch_slot(ch.ring[k % ch.ring.size()]);
  }
  // The same for thread q of a team: its own rows' parts.
  void prefetch_part(std::size_t k, std::size_t q, std::size_t pop) const {
    for (const Channel& ch : channels) {
      const std::size_t L = ch.ring.size();
      if (!ch.part_ring.empty() && (pop == npos || ch.pop == pop))
        prefetch_slot(ch.part_ring[q * L + k % L], q);
    }
  }
  // The targets of a slot's rows, from the table (q = npos) or thread q's part tables.
  void prefetch_slot(const Slot& slot, std::size_t q = npos) const {
    for (const RowRef& r : slot.rows) {
      const RowData d = row_data(r, q);
      if (d.narrow) {
        const auto* tgt = static_cast<const std::uint16_t*>(d.target);
        prefetch<3>(tgt + r.begin, tgt + r.end);
      } else {
        const auto* tgt = static_cast<const std::uint32_t*>(d.target);
        prefetch<3>(tgt + r.begin, tgt + r.end);
      }
    }
  }

  // Queues `count` spikes of source row i, stamped `stamp`: slot (stamp + delay) mod L.
  void push(std::size_t pi, std::uint32_t i, std::size_t stamp, double count) {
    const Projection& pr = projections[pi];
    Channel& ch = channels[pr.channel];
    const auto& t = pr.table;
    const std::size_t L = ch.ring.size();
    if (t.row[i] == t.row[i + 1]) return;
    if (t.delay.empty()) {
      ch.ring[(stamp + t.delay_const) % L].rows.push_back(
          {static_cast<std::uint32_t>(pi), i, count, t.row[i], t.row[i + 1]});
      // The row is read when it arrives, a step or more from now: start loading it into
      // L2. A spiking neuron's row is anywhere in a table of megabytes, so its first
      // lines missed to L3 on arrival (CUBA at 4000 neurons: 15% of the loop, all of it
      // on the load of the first target of a line).
      prefetch(t.target.data() + t.row[i], t.target.data() + t.row[i + 1]);
      if (!t.weight.empty()) prefetch(t.weight.data() + t.row[i], t.weight.data() + t.row[i + 1]);
      return;
    }
    for (std::size_t s = t.row[i]; s < t.row[i + 1]; ++s)
      ch.ring[(stamp + t.delay[s]) % L].events.push_back({t.target[s], count * t.weight_of(s)});
  }

  // Thread q of a team: queues `count` spikes of source row i, stamped `stamp`, for its
  // own range of the targets only, into its own ring. A constant delay queues the row's
  // part for the range (split_targets) and starts loading it into this core's L2, a step
  // or more before it arrives; a drawn delay queues the synapses of the row in the range.
  void push_part(std::size_t pi, std::uint32_t i, std::size_t stamp, double count, std::size_t q) {
    const Projection& pr = projections[pi];
    Channel& ch = channels[pr.channel];
    const auto& t = pr.table;
    const std::size_t L = ch.ring.size();
    Slot* ring = ch.part_ring.data() + q * L;
    if (t.delay.empty()) {
      const PartTable& pt = pr.parts[q];
      const std::uint64_t b = pt.row[i], e = pt.row[i + 1];
      if (b == e) return;
      ring[(stamp + t.delay_const) % L].rows.push_back(
          {static_cast<std::uint32_t>(pi), i, count, b, e});
      if (pt.narrow)
        prefetch(pt.target16.data() + b, pt.target16.data() + e);
      else
        prefetch(pt.target32.data() + b, pt.target32.data() + e);
      if (!pt.weight.empty()) prefetch(pt.weight.data() + b, pt.weight.data() + e);
      return;
    }
    const std::uint32_t lo = pop_part_lo[ch.pop][q], hi = pop_part_lo[ch.pop][q + 1];
    for (std::size_t s = t.row[i]; s < t.row[i + 1]; ++s)
      if (t.target[s] >= lo && t.target[s] < hi)
        ring[(stamp + t.delay[s]) % L].events.push_back({t.target[s], count * t.weight_of(s)});
  }

  // Thread q of a team queues for its own targets what the one-thread loop queues for
  // all, in the same order: the sources' spikes stamped j (emit_sources(j), in begin_step
  // j) with queue_sources(j, q), the populations' spikes of step j, stamped j + 1 (in
  // end_step j) with queue_spikes(j, q), in the order finish_step hands them out (time,
  // then neuron: the parts' sorted lists merged). Each target's queue thus holds its
  // arrivals in the one-thread order, and its sums are the same for any number of threads.
  void queue_sources(std::size_t j, std::size_t q) {
    const auto& em = emitted[j % kSourceBuffers];
    for (std::size_t si = 0; si < sources.size(); ++si)
      for (auto pi : proj_of_source[si])
        for (const auto& sp : em[si]) push_part(pi, sp.neuron, j, sp.count, q);
  }
  void queue_spikes(std::size_t j, std::size_t q) {
    std::vector<Spike>& merged = merge_scratch[q].spikes;
    for (std::size_t p = 0; p < pops.size(); ++p) {
      if (proj_of_pop[p].empty()) continue;
      merged.clear();
      for (std::size_t part = 0; part < team_parts; ++part)  // as finish_step
        detail::merge_spikes(merged, 0, pops[p]->part_spikes(part, j));
      if (merged.empty()) continue;
      // The row offsets of all the step's spikes first, so that their misses overlap.
      for (auto pi : proj_of_pop[p]) {
        const Projection& pr = projections[pi];
        if (!pr.parts.empty())
          for (const Spike& sp : merged)
            __builtin_prefetch(pr.parts[q].row.data() + sp.neuron, 0, 3);
        else  // a drawn delay: push_part reads the whole row
          for (const Spike& sp : merged) __builtin_prefetch(pr.table.row.data() + sp.neuron, 0, 3);
      }
      for (auto pi : proj_of_pop[p])
        for (const Spike& sp : merged) push_part(pi, sp.neuron, j + 1, 1.0, q);
    }
  }

  // Thread q of a team stepping in pairs: the arrivals of step k into the block [lo, hi)
  // of its range of population p, as arrive_block (Population::advance_pair_part).
  void arrive_part_block(std::size_t k, std::size_t p, std::size_t q, std::uint32_t lo,
                         std::uint32_t hi, bool descending) {
    for (Channel& ch : channels) {
      if (ch.pop != p) continue;
      const std::size_t L = ch.ring.size();
      arrive_block_in(k, ch, ch.part_ring[q * L + k % L], ch.part_cursor[2 * q + k % 2], q,
                      pop_part_lo[p][q], pop_part_lo[p][q + 1], lo, hi, descending);
    }
  }
  void clear_part(std::size_t k, std::size_t q) {
    for (Channel& ch : channels)
      if (!ch.part_ring.empty()) clear(ch.part_ring[q * ch.ring.size() + k % ch.ring.size()]);
  }

  // Thread q of a team: the arrivals of step k into its range of population p's targets,
  // from its own ring (rows, then single synapses, as arrive()), which it then empties.
  void arrive_part(std::size_t k, std::size_t p, std::size_t q) {
    for (Channel& ch : channels) {
      if (ch.pop != p) continue;
      Slot& slot = ch.part_ring[q * ch.ring.size() + k % ch.ring.size()];
      if (slot.rows.empty() && slot.events.empty()) continue;
      add_slot(slot, ch.jump, pops[ch.pop]->synaptic_scale(ch.exact_index, k) / ch.tau, q);
      clear(slot);
    }
  }

  // The arrivals of one slot into all the channel's targets: every weight w adds w / tau
  // to its target's current (push() has prefetched the rows). Rows in slot order, a row's
  // synapses in table order, then the single synapses: the order every path keeps.
  void arrive(std::size_t k, Channel& ch) {
    const Slot& slot = ch.ring[k % ch.ring.size()];
    if (slot.rows.empty() && slot.events.empty()) return;
    add_slot(slot, ch.jump,
             (ch.exact ? pops[ch.pop]->synaptic_scale(ch.exact_index, k) : 1.0) / ch.tau);
  }
  // A whole slot into s0, each weight times inv_tau: rows in slot order, a row's synapses
  // in table order, then the single synapses (every arrival path keeps this order). Rows
  // from the tables (q = npos) or from thread q's part tables (relative targets).
  void add_slot(const Slot& slot, double* s0, double inv_tau, std::size_t q = npos) const {
    for (const RowRef& r : slot.rows) {
      const RowData d = row_data(r, q);
      double* base = s0 + d.first;
      const double scale = r.count * inv_tau;
      if (d.narrow)
        add_row(base, static_cast<const std::uint16_t*>(d.target), d, r.begin, r.end, scale);
      else
        add_row(base, static_cast<const std::uint32_t*>(d.target), d, r.begin, r.end, scale);
    }
    for (const Event& ev : slot.events) s0[ev.target] += ev.weight * inv_tau;
  }

  // The arrivals of step k into the block [lo, hi) of the targets, for blocks visited in
  // ascending order from lo = 0, or in descending order from hi = n (Population::
  // advance_pair). A row's targets ascend, so a cursor per row picks up where the last
  // block left it: a block costs a look at each row plus its own synapses, no search.
  // Going down, the cursor is the end of the block's part of the row, whose start is
  // found by stepping back over it; the part is then added forwards, as going up. Each
  // target gets its weights in the same order as from arrive() (rows in slot order, a
  // row's synapses in table order), so the sums are the same. Rows only: for networks
  // without drawn delays (steps_in_pairs).
  void arrive_block(std::size_t k, Channel& ch, std::uint32_t lo, std::uint32_t hi,
                    bool descending) {
    arrive_block_in(k, ch, ch.ring[k % ch.ring.size()], ch.cursor[k % 2], npos, 0,
                    static_cast<std::uint32_t>(ch.n), lo, hi, descending);
  }
  // arrive_block for the slot `slot` of step k, whose rows all lie in the targets
  // [first, last): blocks [lo, hi) inside it, ascending from first or descending from last.
  // The rows are in the tables (q = npos) or in thread q's part tables, whose targets
  // count from `first`.
  void arrive_block_in(std::size_t k, const Channel& ch, const Slot& slot,
                       std::vector<std::size_t>& cursor, std::size_t q, std::uint32_t first,
                       std::uint32_t last, std::uint32_t lo, std::uint32_t hi, bool descending) {
    if (slot.rows.empty()) return;
    const double inv_tau = pops[ch.pop]->synaptic_scale(ch.exact_index, k) / ch.tau;
    if (lo == first && hi == last) {  // one block: every row whole, no cursors to check
      add_slot(slot, ch.jump, inv_tau, q);
      return;
    }
    if (descending ? hi == last : lo == first) {
      cursor.resize(slot.rows.size());
      for (std::size_t j = 0; j < slot.rows.size(); ++j)
        cursor[j] = descending ? slot.rows[j].end : slot.rows[j].begin;
    }
    // Part tables count their targets from `first`.
    const std::uint32_t base = q == npos ? 0 : first;
    double* s0 = ch.jump + base;
    for (std::size_t j = 0; j < slot.rows.size(); ++j) {
      const RowRef& r = slot.rows[j];
      const RowData d = row_data(r, q);
      const double scale = r.count * inv_tau;  // as add_row's arithmetic, term by term
      if (d.narrow)
        cursor[j] = add_block(s0, static_cast<const std::uint16_t*>(d.target), d, r, cursor[j],
                              lo - base, hi - base, descending, scale);
      else
        cursor[j] = add_block(s0, static_cast<const std::uint32_t*>(d.target), d, r, cursor[j],
                              lo - base, hi - base, descending, scale);
    }
  }
  // Row r's synapses onto the block [lo, hi), from its cursor `s` (arrive_block_in); returns
  // the new cursor.
  template <class T>
  static std::size_t add_block(double* __restrict s0, const T* __restrict tgt, const RowData& d,
                               const RowRef& r, std::size_t s, std::uint32_t lo, std::uint32_t hi,
                               bool descending, double scale) {
    std::size_t e = r.end;
    if (descending) {  // [s, e): this block's part, ending at the cursor
      e = s;
      while (s > r.begin && tgt[s - 1] >= lo) --s;
    }
    const std::size_t from = s;
    if (!d.weight) {
      const double w = d.weight_const * scale;
      for (; s < e && tgt[s] < hi; ++s) s0[tgt[s]] += w;
    } else {
      const float* __restrict w = d.weight;
      for (; s < e && tgt[s] < hi; ++s) s0[tgt[s]] += scale * w[s];
    }
    return descending ? from : s;
  }

  // Synapses [b, e) of a row: each adds its weight times `scale` to its target's s0.
  template <class T>
  static void add_row(double* __restrict s0, const T* __restrict tgt, const RowData& d,
                      std::size_t b, std::size_t e, double scale) {
    if (!d.weight) {
      const double w = d.weight_const * scale;
      for (std::size_t s = b; s < e; ++s) s0[tgt[s]] += w;
    } else {
      const float* __restrict w = d.weight;
      for (std::size_t s = b; s < e; ++s) s0[tgt[s]] += scale * w[s];
    }
  }

  static void clear(Slot& slot) {
    slot.rows.clear();
    slot.events.clear();
  }

  // The spike sources' spikes stamped k, queued on their projections (in a team, each
  // thread queues them itself: queue_sources).
  void emit_sources(std::size_t k) {
    last_emitted = k % kSourceBuffers;
    auto& em = emitted[last_emitted];
    for (std::size_t si = 0; si < sources.size(); ++si) {
      if (proj_of_source[si].empty() && !keep_emitting[si]) continue;
      em[si].clear();
      sources[si].emit(k, em[si]);
      if (team_parts == 0)
        for (auto pi : proj_of_source[si])
          for (const auto& sp : em[si]) push(pi, sp.neuron, k, sp.count);
    }
  }

  Impl(const RunSpec& s, std::vector<std::unique_ptr<Population>>& pop_list, int threads)
      : dt(s.dt) {
    for (auto& p : pop_list) pops.push_back(p.get());
    proj_of_pop.resize(pops.size());
    proj_of_source.resize(s.sources.size());
    for (std::size_t i = 0; i < s.sources.size(); ++i)
      sources.emplace_back(s.sources[i], s.seed, i, s.dt);
    for (auto& em : emitted) em.resize(sources.size());
    keep_emitting.assign(sources.size(), 0);
    pop_part_lo.resize(pops.size());

    std::map<std::pair<std::string, std::string>, std::size_t> channel_index;
    std::vector<std::size_t> slots;
    for (std::size_t pi = 0; pi < s.projections.size(); ++pi) {
      const ProjectionSpec& p = s.projections[pi];
      Projection pr;
      pr.table = networks::connect(wiring(s, p, pi), threads);
      bool dummy = false;
      std::size_t target = 0;
      node_size(s, p.source, &pr.from_source, &pr.source);
      node_size(s, p.target, &dummy, &target);
      const auto key = std::pair{p.target, default_channel(p)};
      auto it = channel_index.find(key);
      if (it == channel_index.end()) {
        Channel ch;
        ch.name = key.second;
        ch.pop = target;
        ch.n = s.populations[target].size;
        ch.tau = p.tau;
        ch.order = p.order;
        it = channel_index.emplace(key, channels.size()).first;
        channels.push_back(std::move(ch));
        slots.push_back(1);
      }
      pr.channel = it->second;
      slots[pr.channel] = std::max<std::size_t>(slots[pr.channel], pr.table.max_delay() + 1u);
      (pr.from_source ? proj_of_source[pr.source] : proj_of_pop[pr.source]).push_back(pi);
      projections.push_back(std::move(pr));
    }
    // Exponential channels go to populations that integrate them exactly, all or none.
    std::vector<std::vector<std::size_t>> exp_channels(pops.size());
    for (std::size_t c = 0; c < channels.size(); ++c)
      if (channels[c].order == 0) exp_channels[channels[c].pop].push_back(c);
    for (std::size_t p = 0; p < pops.size(); ++p) {
      if (exp_channels[p].empty()) continue;
      std::vector<double> taus;
      for (auto c : exp_channels[p]) taus.push_back(channels[c].tau);
      if (pops[p]->attach_exp_synapses(taus))
        for (std::size_t k = 0; k < exp_channels[p].size(); ++k) {
          channels[exp_channels[p][k]].exact = true;
          channels[exp_channels[p][k]].jump = pops[p]->synaptic_current(k);
          channels[exp_channels[p][k]].exact_index = k;
        }
    }
    hand_spike_rows();
    for (std::size_t c = 0; c < channels.size(); ++c) {
      Channel& ch = channels[c];
      ch.ring.resize(slots[c]);
      if (!ch.exact) {
        ch.prop = models::psc_propagator(ch.order, ch.tau, s.dt);
        ch.stage.assign((ch.order + 1) * ch.n, 0.0);
        ch.jump = ch.stage.data();
      }
    }
  }

  // Whether population p gets input from filtered channels (then `input` must be filled).
  bool filters_into(std::size_t p) const {
    for (const auto& ch : channels)
      if (!ch.exact && ch.pop == p) return true;
    return false;
  }

  void begin_step(std::size_t k, std::vector<std::vector<double>>& input) {
    emit_sources(k);
    for (auto& ch : channels) {
      // Filtered channels: the cascade is carried from the previous step's start to this
      // one's here, before the arrivals, so that between begin_step calls it holds the
      // state at the current step's start (read by the "I_<channel>" traces).
      if (!ch.exact && k > 0) propagate(ch);
      arrive(k, ch);
      clear(ch.ring[k % ch.ring.size()]);
      if (ch.exact) continue;
      const std::size_t n = ch.n, m = ch.order + 1;
      const double* __restrict s = ch.stage.data();
      double* __restrict in = input[ch.pop].data();
      const double inv_dt = 1.0 / dt;
      for (std::size_t j = 0; j < m; ++j) {  // the exact charge of the step, as a mean current
        const double q = ch.prop.Q[j] * inv_dt;
        const double* __restrict sj = s + j * n;
        for (std::size_t i = 0; i < n; ++i) in[i] += q * sj[i];
      }
    }
  }

  // s <- P s over one step, last stage first (P is lower triangular).
  static void propagate(Channel& ch) {
    const std::size_t n = ch.n, m = ch.order + 1;
    double* __restrict s = ch.stage.data();
    for (std::size_t r = m; r-- > 0;) {
      double* __restrict sr = s + r * n;
      const double prr = ch.prop.P[r * m + r];
      for (std::size_t i = 0; i < n; ++i) sr[i] *= prr;
      for (std::size_t j = 0; j < r; ++j) {
        const double prj = ch.prop.P[r * m + j];
        const double* __restrict sj = s + j * n;
        for (std::size_t i = 0; i < n; ++i) sr[i] += prj * sj[i];
      }
    }
  }

  void read_current(std::size_t c, std::span<const std::uint32_t> neurons,
                    std::span<double> out) const {
    const Channel& ch = channels[c];
    if (ch.exact) {
      pops[ch.pop]->read_synaptic_current(ch.exact_index, neurons, out);
      return;
    }
    const double* last = ch.stage.data() + ch.order * ch.n;  // the output stage s_n
    if (neurons.empty())
      std::copy(last, last + ch.n, out.begin());
    else
      for (std::size_t k = 0; k < neurons.size(); ++k) out[k] = last[neurons[k]];
  }

  void deliver(std::size_t k, const std::vector<std::vector<Spike>>& spikes) {
    for (std::size_t p = 0; p < pops.size(); ++p) {
      if (spikes[p].empty()) continue;
      // The row offsets of all the step's spikes first: push() reads them and then
      // prefetches the rows, so their misses overlap instead of each stalling its push.
      // (Populations may have started these loads already: set_spike_prefetch.)
      for (auto pi : proj_of_pop[p]) {
        const std::uint64_t* row = projections[pi].table.row.data();
        for (const Spike& sp : spikes[p]) __builtin_prefetch(row + sp.neuron, 0, 3);
      }
      for (auto pi : proj_of_pop[p])
        for (const Spike& sp : spikes[p]) push(pi, sp.neuron, k + 1, 1.0);
    }
  }
};

bool SynapticNetwork::splits() const {
  return std::all_of(impl_->channels.begin(), impl_->channels.end(),
                     [](const auto& ch) { return ch.exact; });
}
void SynapticNetwork::emit_sources(std::size_t k) {
  impl_->emit_sources(k);
}
void SynapticNetwork::keep_emitting(std::size_t source) {
  impl_->keep_emitting[source] = 1;
}
std::span<const SourceSpike> SynapticNetwork::emitted(std::size_t source) const {
  return impl_->emitted[impl_->last_emitted][source];
}
void SynapticNetwork::queue_sources(std::size_t j, std::size_t part) {
  impl_->queue_sources(j, part);
}
void SynapticNetwork::queue_spikes(std::size_t j, std::size_t part) {
  impl_->queue_spikes(j, part);
}
void SynapticNetwork::arrive_part_block(std::size_t k, std::size_t p, std::size_t part,
                                        std::size_t lo, std::size_t hi, bool descending) {
  impl_->arrive_part_block(k, p, part, static_cast<std::uint32_t>(lo),
                           static_cast<std::uint32_t>(hi), descending);
}
void SynapticNetwork::clear_part(std::size_t k, std::size_t part) {
  impl_->clear_part(k, part);
}
void SynapticNetwork::arrive_part(std::size_t k, std::size_t p, std::size_t part) {
  impl_->arrive_part(k, p, part);
}
void SynapticNetwork::prefetch_part(std::size_t k, std::size_t part, std::size_t pop) const {
  impl_->prefetch_part(k, part, pop);
}
void SynapticNetwork::split_targets(std::size_t p, const std::vector<std::uint32_t>& lo) {
  impl_->split_targets(p, lo);
}
bool SynapticNetwork::steps_in_pairs() const {
  return splits() && std::all_of(impl_->projections.begin(), impl_->projections.end(),
                                 [](const auto& p) { return p.table.delay.empty(); });
}
void SynapticNetwork::arrive_block(std::size_t k, std::size_t p, std::size_t lo, std::size_t hi,
                                   bool descending) {
  for (auto& ch : impl_->channels)
    if (ch.pop == p)
      impl_->arrive_block(k, ch, static_cast<std::uint32_t>(lo), static_cast<std::uint32_t>(hi),
                          descending);
}
void SynapticNetwork::prefetch_arrivals(std::size_t k, std::size_t pop) const {
  impl_->prefetch_arrivals(k, pop);
}
void SynapticNetwork::clear_arrivals(std::size_t k) {
  for (auto& ch : impl_->channels) Impl::clear(ch.ring[k % ch.ring.size()]);
}

SynapticNetwork::SynapticNetwork(const RunSpec& s, std::vector<std::unique_ptr<Population>>& pops,
                                 int threads)
    : impl_(std::make_unique<Impl>(s, pops, threads)) {}
SynapticNetwork::~SynapticNetwork() = default;
SynapticNetwork::SynapticNetwork(SynapticNetwork&&) noexcept = default;
SynapticNetwork& SynapticNetwork::operator=(SynapticNetwork&&) noexcept = default;
bool SynapticNetwork::empty() const {
  return impl_->channels.empty();
}
void SynapticNetwork::begin_step(std::size_t k, std::vector<std::vector<double>>& input) {
  impl_->begin_step(k, input);
}
void SynapticNetwork::deliver(std::size_t k, const std::vector<std::vector<Spike>>& spikes) {
  impl_->deliver(k, spikes);
}
bool SynapticNetwork::filters_into(std::size_t p) const {
  return impl_->filters_into(p);
}
std::size_t SynapticNetwork::find_channel(std::size_t p, const std::string& name) const {
  for (std::size_t c = 0; c < impl_->channels.size(); ++c)
    if (impl_->channels[c].pop == p && impl_->channels[c].name == name) return c;
  return npos;
}
void SynapticNetwork::read_current(std::size_t ch, std::span<const std::uint32_t> neurons,
                                   std::span<double> out) const {
  impl_->read_current(ch, neurons, out);
}
std::size_t SynapticNetwork::synapse_count() const {
  std::size_t n = 0;
  for (const auto& p : impl_->projections) n += p.table.size();
  return n;
}
std::size_t SynapticNetwork::synapse_bytes() const {
  std::size_t n = 0;
  for (const auto& p : impl_->projections) {
    n += p.table.bytes();
    for (const auto& pt : p.parts) n += pt.bytes();  // a team's part tables (split_targets)
  }
  return n;
}

}  // namespace ranvier::sim
