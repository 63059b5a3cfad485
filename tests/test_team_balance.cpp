// The policy that moves a team's parts (sim/team_balance.hpp): where the tiles fall, and
// where the parts go for given busy times. The runs that use it are in
// test_network_engine.cpp ("a team whose parts move ...").
#include <doctest/doctest.h>

#include <limits>
#include <vector>

#include "sim/team_balance.hpp"

using ranvier::sim::detail::make_team_tiles;
using ranvier::sim::detail::rebalance_team_tiles;
using ranvier::sim::detail::rotate_team_tiles;
using ranvier::sim::detail::TeamTiles;

namespace {
// CUBA at 64000 neurons: 200 excitatory and 50 inhibitory chunks of 256 neurons.
TeamTiles cuba_tiles(std::size_t parts = 2) {
  return make_team_tiles({200, 50}, 14, parts);
}
}  // namespace

TEST_CASE("team tiles: 14 tiles a population, halves to start with") {
  const TeamTiles t = cuba_tiles();
  REQUIRE(t.parts() == 2);
  CHECK(t.tile_chunk[0].front() == 0);
  CHECK(t.tile_chunk[0].back() == 200);
  CHECK(t.tile_chunk[1].back() == 50);
  CHECK(t.tile_chunk[0][7] == 100);  // 200 * 7 / 14
  CHECK(t.tile_chunk[1][7] == 25);
  // The same halves as the fixed cut of a team without tiles (LIF part_chunks: n p / P).
  CHECK(t.chunk_bounds(0) == std::vector<std::size_t>{0, 100, 200});
  CHECK(t.chunk_bounds(1) == std::vector<std::size_t>{0, 25, 50});
  CHECK(t.part_chunks(0) == 125);
  CHECK(t.part_chunks(1) == 125);
  // Fewer chunks than tiles: empty tiles, ascending bounds.
  const TeamTiles small = make_team_tiles({3}, 14, 2);
  CHECK(small.tile_chunk[0].back() == 3);
  CHECK(small.part_chunks(0) + small.part_chunks(1) == 3);
}

TEST_CASE("team tiles: parts follow the threads' speeds, to the nearest tile") {
  SUBCASE("equal busy times: no move") {
    TeamTiles t = cuba_tiles();
    CHECK_FALSE(rebalance_team_tiles(t, {2.0, 2.0}));
    CHECK(t.part_tile[0][1] == 7);
  }
  SUBCASE("thread 1 at half speed: thread 0 gets about two thirds") {
    // Speeds 125/1 and 125/2 chunks a second: thread 0 should have 2/3 of each population,
    // 133.3 of 200 chunks and 33.3 of 50. The nearest tile starts: 200 * 9 / 14 = 128
    // (5.3 away; tile 10 starts at 142) and 50 * 9 / 14 = 32 (1.3 away; 35 is 1.7).
    TeamTiles t = cuba_tiles();
    REQUIRE(rebalance_team_tiles(t, {1.0, 2.0}));
    CHECK(t.part_tile[0][1] == 9);
    CHECK(t.part_tile[1][1] == 9);
    CHECK(t.part_chunks(0) == 128 + 32);
    // Predicted times: 160 chunks / 125 = 1.28 s and 90 / 62.5 = 1.44 s, against 2 s for
    // the halves; measured again at those speeds, the busier thread is thread 1.
    CHECK_FALSE(rebalance_team_tiles(t, {160.0 / 125.0, 90.0 / 62.5}));
  }
  SUBCASE("a small difference is not worth a move") {
    // 2% slower: the best cut moves one tile (7% of the work), which would make thread 0
    // the busier one by more than thread 1 is now.
    TeamTiles t = cuba_tiles();
    CHECK_FALSE(rebalance_team_tiles(t, {1.0, 1.02}));
    CHECK(t.part_tile[0][1] == 7);
  }
  SUBCASE("a thread almost stopped keeps one tile") {
    TeamTiles t = cuba_tiles();
    REQUIRE(rebalance_team_tiles(t, {1.0, 1000.0}));
    CHECK(t.part_tile[0][1] == 13);
    CHECK(t.part_tile[1][1] == 13);
    REQUIRE(rebalance_team_tiles(t, {1000.0, 1.0}));  // and back the other way
    CHECK(t.part_tile[0][1] == 1);
  }
  SUBCASE("no estimate, no move: a zero or non-finite busy time") {
    TeamTiles t = cuba_tiles();
    CHECK_FALSE(rebalance_team_tiles(t, {0.0, 1.0}));
    CHECK_FALSE(rebalance_team_tiles(t, {1.0, std::numeric_limits<double>::infinity()}));
    CHECK(t.part_tile[0][1] == 7);
  }
  SUBCASE("three threads: bounds ascend, shares follow the speeds") {
    TeamTiles t = cuba_tiles(3);
    CHECK(t.part_tile[0] == std::vector<std::size_t>{0, 4, 9, 14});  // 14 q / 3
    // Thread 2 at a third of the others' speed: shares 3/7, 3/7, 1/7 of the chunks, 85.7
    // and 171.4 of 200: tile starts 85 (6) and 171 (12).
    const double b0 = static_cast<double>(t.part_chunks(0)), b1 = t.part_chunks(1),
                 b2 = 3.0 * t.part_chunks(2);
    REQUIRE(rebalance_team_tiles(t, {b0, b1, b2}));
    CHECK(t.part_tile[0] == std::vector<std::size_t>{0, 6, 12, 14});
  }
}

TEST_CASE("team tiles: the test rotation moves every boundary and keeps a tile a part") {
  for (const std::size_t parts : {2u, 3u}) {
    TeamTiles t = cuba_tiles(parts);
    std::vector<std::size_t> last = t.part_tile[0];
    for (std::size_t point = 0; point < 30; ++point) {
      rotate_team_tiles(t, point);
      for (const auto& a : t.part_tile) {
        CHECK(a.front() == 0);
        CHECK(a.back() == 14);
        for (std::size_t q = 0; q < parts; ++q) CHECK(a[q] < a[q + 1]);
      }
      CHECK(t.part_tile[0] != last);
      last = t.part_tile[0];
    }
  }
}
