#include "sim/team_balance.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ranvier::sim::detail {

std::vector<std::size_t> TeamTiles::chunk_bounds(std::size_t p) const {
  std::vector<std::size_t> b;
  for (std::size_t a : part_tile[p]) b.push_back(tile_chunk[p][a]);
  return b;
}

std::size_t TeamTiles::part_chunks(std::size_t q) const {
  std::size_t n = 0;
  for (std::size_t p = 0; p < part_tile.size(); ++p)
    n += tile_chunk[p][part_tile[p][q + 1]] - tile_chunk[p][part_tile[p][q]];
  return n;
}

TeamTiles make_team_tiles(const std::vector<std::size_t>& chunks, std::size_t tiles,
                          std::size_t parts) {
  if (parts < 1 || tiles < parts)
    throw std::invalid_argument("make_team_tiles: needs tiles >= parts >= 1");
  TeamTiles t;
  for (std::size_t nc : chunks) {
    auto& tc = t.tile_chunk.emplace_back();
    for (std::size_t i = 0; i <= tiles; ++i) tc.push_back(nc * i / tiles);
    auto& pt = t.part_tile.emplace_back();
    for (std::size_t q = 0; q <= parts; ++q) pt.push_back(tiles * q / parts);
  }
  return t;
}

namespace {

// The busiest thread's time if part q of every population were the tiles of `part_tile`,
// thread q doing speed[q] chunks a second.
double predicted_time(const TeamTiles& t, const std::vector<std::vector<std::size_t>>& part_tile,
                      const std::vector<double>& speed) {
  double worst = 0;
  for (std::size_t q = 0; q < speed.size(); ++q) {
    std::size_t n = 0;
    for (std::size_t p = 0; p < part_tile.size(); ++p)
      n += t.tile_chunk[p][part_tile[p][q + 1]] - t.tile_chunk[p][part_tile[p][q]];
    worst = std::max(worst, static_cast<double>(n) / speed[q]);
  }
  return worst;
}

}  // namespace

bool rebalance_team_tiles(TeamTiles& t, const std::vector<double>& busy, double min_gain) {
  const std::size_t P = t.parts();
  if (P < 2 || busy.size() != P) return false;
  std::vector<double> speed(P);
  double total = 0;
  for (std::size_t q = 0; q < P; ++q) {
    const auto n = static_cast<double>(t.part_chunks(q));
    // No estimate without work done or time taken (a part of empty tiles; a clock that
    // did not move): keep the cut.
    if (!(busy[q] > 0) || n == 0 || !std::isfinite(busy[q])) return false;
    speed[q] = n / busy[q];
    total += speed[q];
  }
  std::vector<std::vector<std::size_t>> next = t.part_tile;
  for (std::size_t p = 0; p < next.size(); ++p) {
    const auto& tc = t.tile_chunk[p];
    const std::size_t T = tc.size() - 1;
    const auto nc = static_cast<double>(tc.back());
    double share = 0;  // of the chunks before part q
    for (std::size_t q = 1; q < P; ++q) {
      share += speed[q - 1] / total;
      const double want = share * nc;
      // The tile boundary nearest the wanted chunk, leaving a tile for each part on
      // either side.
      const std::size_t lo = next[p][q - 1] + 1, hi = T - (P - q);
      std::size_t best = lo;
      for (std::size_t a = lo; a <= hi; ++a)
        if (std::fabs(static_cast<double>(tc[a]) - want) <
            std::fabs(static_cast<double>(tc[best]) - want))
          best = a;
      next[p][q] = best;
    }
  }
  if (next == t.part_tile ||
      !(predicted_time(t, next, speed) < (1 - min_gain) * predicted_time(t, t.part_tile, speed)))
    return false;
  t.part_tile = std::move(next);
  return true;
}

void rotate_team_tiles(TeamTiles& t, std::size_t point) {
  const std::size_t P = t.parts();
  for (std::size_t p = 0; p < t.part_tile.size(); ++p) {
    const std::size_t T = t.tile_chunk[p].size() - 1, room = T - P + 1;
    // Boundary q moves to q + s_q with 0 <= s_1 <= s_2 <= ... <= T - P: every part keeps
    // a tile at least.
    std::vector<std::size_t> s;
    for (std::size_t q = 1; q < P; ++q) s.push_back(((point + 1) * (2 * q + 1) + p) % room);
    std::sort(s.begin(), s.end());
    for (std::size_t q = 1; q < P; ++q) t.part_tile[p][q] = q + s[q - 1];
  }
}

}  // namespace ranvier::sim::detail
