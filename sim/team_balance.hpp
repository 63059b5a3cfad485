// Where a team's parts of each population end, moved while the run goes so that the
// threads finish their pairs of steps together.
//
// Why: on the 2-vCPU VM this project is measured on, one core often runs 30-100% slower
// than the other for a second or more (CUBA at 64000 neurons, work per 500 steps, rdtsc:
// 9 against 10-11 ms in most runs, 15-24 against 10-11 in some). With fixed halves the
// fast thread then waits for the slow one at every pair; with parts in proportion to the
// threads' speeds both cores work all the time.
//
// How: a population's chunks are cut once into T tiles (SynapticNetwork::split_targets
// stores where each synapse row crosses every tile, so moving a part's end costs nothing
// there), and part q of the team is the tiles [a_q, a_{q+1}). Every few pairs the team
// stops together, and thread 0 moves the a_q by the work each thread did since the last
// stop (its busy time, waits left out). Results do not depend on the parts (each neuron's
// arithmetic and the order of its arrivals are the same for any cut), so neither does
// anything a run writes; only the speed does.
#pragma once

#include <cstddef>
#include <vector>

namespace ranvier::sim::detail {

struct TeamTiles {
  // Per population: the chunk each tile starts at, T + 1 entries from 0 to its chunks.
  std::vector<std::vector<std::size_t>> tile_chunk;
  // Per population: the first tile of each part, P + 1 entries from 0 to T.
  std::vector<std::vector<std::size_t>> part_tile;
  std::size_t parts() const { return part_tile.empty() ? 0 : part_tile[0].size() - 1; }
  // Part q's chunks of population p: [chunk_bounds(p)[q], chunk_bounds(p)[q + 1]).
  std::vector<std::size_t> chunk_bounds(std::size_t p) const;
  // Part q's chunks over all populations.
  std::size_t part_chunks(std::size_t q) const;
};

// `tiles` tiles over each population of chunks[p] chunks (tiles of nearly equal chunk
// counts; empty tiles where a population has fewer chunks), and `parts` parts of nearly
// equal tile counts. tiles >= parts >= 1.
TeamTiles make_team_tiles(const std::vector<std::size_t>& chunks, std::size_t tiles,
                          std::size_t parts);

// The tiles that would have the parts finish together, given each thread's busy time
// (seconds, any unit) for its present part: speeds are chunks per second, and each
// population is cut so that part q gets a share of its chunks in proportion to thread q's
// speed, to the nearest tile, at least one tile a part. Returns false and leaves `t` as it
// is unless the busiest thread's predicted time falls by more than `min_gain` (a fraction:
// small moves are not worth the caches they cost).
bool rebalance_team_tiles(TeamTiles& t, const std::vector<double>& busy, double min_gain = 0.03);

// Test runs: a cut that depends only on `point` and moves every boundary, so that a test
// sees the parts change at each rebalance point (RunOptions::TeamBalance::rotate).
void rotate_team_tiles(TeamTiles& t, std::size_t point);

}  // namespace ranvier::sim::detail
