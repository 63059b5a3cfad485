// Connection rules: realised probability and in-degree within binomial bounds, the same
// table for any thread count, weights that keep their sign, and the bytes a synapse costs.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "networks/connectivity.hpp"

using namespace ranvier::networks;

namespace {

ProjectionWiring base(std::size_t ns, std::size_t nt, ConnectionRule::Kind kind) {
  ProjectionWiring w;
  w.n_source = ns;
  w.n_target = nt;
  w.rule.kind = kind;
  w.weight = Distribution::constant(1.0);
  w.delay = Distribution::constant(1.5);
  w.dt = 0.1;
  w.seed = 11;
  w.projection = 3;
  return w;
}

bool same(const Connectivity& a, const Connectivity& b) {
  return a.row == b.row && a.target == b.target && a.weight == b.weight && a.delay == b.delay &&
         a.weight_const == b.weight_const && a.delay_const == b.delay_const;
}

bool rows_sorted(const Connectivity& c) {
  for (std::size_t i = 0; i < c.n_source; ++i)
    for (auto s = c.row[i] + 1; s < c.row[i + 1]; ++s)
      if (c.target[s - 1] >= c.target[s]) return false;
  return true;
}

}  // namespace

TEST_CASE("all_to_all and one_to_one with and without autapses") {
  auto w = base(5, 5, ConnectionRule::Kind::all_to_all);
  w.same_population = true;
  CHECK(connect(w).size() == 25);
  w.rule.autapses = false;
  const auto c = connect(w);
  CHECK(c.size() == 20);
  for (std::uint32_t i = 0; i < 5; ++i)
    for (auto s = c.row[i]; s < c.row[i + 1]; ++s) CHECK(c.target[s] != i);
  w.rule.kind = ConnectionRule::Kind::one_to_one;
  CHECK(connect(w).size() == 0);
  w.rule.autapses = true;
  const auto o = connect(w);
  CHECK(o.size() == 5);
  for (std::uint32_t i = 0; i < 5; ++i) CHECK(o.target[o.row[i]] == i);
  w.n_target = 4;
  CHECK_THROWS_AS(connect(w), WiringError);
}

TEST_CASE("fixed_probability realises p within binomial bounds") {
  // N = 2000 x 3000 possible synapses at p = 0.02: the count is Binomial(N, p), sd =
  // sqrt(N p (1-p)) = 343; 5 sd (a false alarm once in 3.5 million runs) is the bound. Each
  // row is also checked against its own binomial (3000, 0.02): 6 sd over 2000 rows.
  auto w = base(2000, 3000, ConnectionRule::Kind::fixed_probability);
  w.rule.p = 0.02;
  const auto c = connect(w);
  const double N = 2000.0 * 3000.0, mean = N * 0.02, sd = std::sqrt(N * 0.02 * 0.98);
  CHECK(std::fabs(static_cast<double>(c.size()) - mean) < 5 * sd);
  const double row_mean = 3000 * 0.02, row_sd = std::sqrt(3000 * 0.02 * 0.98);
  for (std::size_t i = 0; i < c.n_source; ++i)
    CHECK(std::fabs(static_cast<double>(c.row[i + 1] - c.row[i]) - row_mean) < 6 * row_sd);
  CHECK(rows_sorted(c));
  // The in-degree of each target is Binomial(2000, 0.02) too.
  std::vector<int> indeg(3000, 0);
  for (auto t : c.target) ++indeg[t];
  const double in_mean = 2000 * 0.02, in_sd = std::sqrt(2000 * 0.02 * 0.98);
  for (int d : indeg) CHECK(std::fabs(d - in_mean) < 6 * in_sd);
  // p = 0 and p = 1 are exact.
  w.rule.p = 0;
  CHECK(connect(w).size() == 0);
  w.rule.p = 1;
  CHECK(connect(w).size() == 2000u * 3000u);
  w.rule.p = 1.5;
  CHECK_THROWS_AS(connect(w), WiringError);
}

TEST_CASE("fixed_probability without autapses never connects i to i") {
  auto w = base(400, 400, ConnectionRule::Kind::fixed_probability);
  w.rule.p = 0.5;
  w.same_population = true;
  w.rule.autapses = false;
  const auto c = connect(w);
  for (std::uint32_t i = 0; i < 400; ++i)
    for (auto s = c.row[i]; s < c.row[i + 1]; ++s) REQUIRE(c.target[s] != i);
  // 400 * 399 candidates at p = 0.5: sd 200, bound 5 sd.
  CHECK(std::fabs(static_cast<double>(c.size()) - 400 * 399 * 0.5) < 5 * 200);
}

TEST_CASE("fixed_indegree gives every target exactly k distinct sources") {
  auto w = base(500, 700, ConnectionRule::Kind::fixed_indegree);
  w.rule.indegree = 80;
  const auto c = connect(w);
  CHECK(c.size() == 700u * 80u);
  std::vector<int> indeg(700, 0);
  for (auto t : c.target) ++indeg[t];
  for (int d : indeg) CHECK(d == 80);
  CHECK(rows_sorted(c));  // sorted rows also mean no repeated (i, j)
  // Out-degrees are then Binomial(700, 80/500) per source: 6 sd bound.
  const double p = 80.0 / 500, m = 700 * p, sd = std::sqrt(700 * p * (1 - p));
  for (std::size_t i = 0; i < 500; ++i)
    CHECK(std::fabs(static_cast<double>(c.row[i + 1] - c.row[i]) - m) < 6 * sd);
  // Without autapses inside one population.
  auto s = base(100, 100, ConnectionRule::Kind::fixed_indegree);
  s.same_population = true;
  s.rule.autapses = false;
  s.rule.indegree = 99;
  const auto cs = connect(s);
  CHECK(cs.size() == 9900);
  for (std::uint32_t i = 0; i < 100; ++i)
    for (auto q = cs.row[i]; q < cs.row[i + 1]; ++q) REQUIRE(cs.target[q] != i);
  s.rule.indegree = 100;
  CHECK_THROWS_AS(connect(s), WiringError);
}

TEST_CASE("the same seed gives the same table for any thread count") {
  for (auto kind :
       {ConnectionRule::Kind::fixed_probability, ConnectionRule::Kind::fixed_indegree}) {
    auto w = base(3000, 2500, kind);
    w.rule.p = 0.03;
    w.rule.indegree = 60;
    w.weight = {Distribution::Kind::normal, 0.5, 0.2};
    w.delay = {Distribution::Kind::uniform, 0.1, 3.0};
    const auto c1 = connect(w, 1), c2 = connect(w, 2), c4 = connect(w, 4);
    CHECK(same(c1, c2));
    CHECK(same(c1, c4));
    w.seed = 12;
    CHECK_FALSE(same(c1, connect(w, 2)));
    w.seed = 11;
    w.projection = 4;  // another projection of the same run draws other streams
    CHECK_FALSE(same(c1, connect(w, 2)));
  }
}

TEST_CASE("drawn weights keep the sign of their mean and have the right moments") {
  auto w = base(1000, 1000, ConnectionRule::Kind::fixed_probability);
  w.rule.p = 0.1;
  for (double sign : {1.0, -1.0}) {
    w.weight = {Distribution::Kind::normal, sign * 1.0, 0.5};  // 2.3% would flip sign
    auto c = connect(w);
    for (float x : c.weight) REQUIRE(x * sign >= 0);
    w.weight = {Distribution::Kind::lognormal, sign * 2.0, 1.0};
    c = connect(w);
    double sum = 0, sum2 = 0;
    for (float x : c.weight) {
      REQUIRE(x * sign > 0);
      sum += x;
      sum2 += double(x) * x;
    }
    const double n = static_cast<double>(c.size()), mean = sum / n;
    const double sd = std::sqrt(sum2 / n - mean * mean);
    // ~1e5 draws: the mean's standard error is 1/sqrt(1e5) = 0.003; 0.02 is > 6 of them.
    CHECK(mean == doctest::Approx(sign * 2.0).epsilon(0.01));
    CHECK(sd == doctest::Approx(1.0).epsilon(0.05));
    w.weight = {Distribution::Kind::uniform, sign * 0.5, sign * 1.5};
    if (sign < 0) w.weight = {Distribution::Kind::uniform, -1.5, -0.5};
    c = connect(w);
    for (float x : c.weight)
      REQUIRE((std::fabs(x) >= 0.5f && std::fabs(x) <= 1.5f && x * sign > 0));
  }
  w.weight = {Distribution::Kind::uniform, -1.0, 1.0};
  CHECK_THROWS_AS(connect(w), WiringError);
}

TEST_CASE("delays are whole steps of at least one") {
  auto w = base(200, 200, ConnectionRule::Kind::all_to_all);
  w.delay = Distribution::constant(0.05);
  CHECK_THROWS_AS(connect(w), WiringError);  // below dt
  w.delay = Distribution::constant(1.5);
  CHECK(connect(w).delay_const == 15);
  w.delay = {Distribution::Kind::normal, 0.3, 0.3};
  const auto c = connect(w);
  REQUIRE(c.delay.size() == c.size());
  std::uint16_t lo = 65535;
  for (auto d : c.delay) lo = std::min(lo, d);
  CHECK(lo == 1);
  CHECK(c.max_delay() > 3);
}

TEST_CASE("a synapse costs 4, 8 or 10 bytes") {
  auto w = base(100, 100, ConnectionRule::Kind::all_to_all);
  CHECK(connect(w).bytes_per_synapse() == 4);  // constant weight and delay: the target only
  w.weight = {Distribution::Kind::normal, 1.0, 0.1};
  CHECK(connect(w).bytes_per_synapse() == 8);  // + float weight
  w.delay = {Distribution::Kind::uniform, 1.0, 2.0};
  const auto c = connect(w);
  CHECK(c.bytes_per_synapse() == 10);  // + uint16 delay
  CHECK(c.bytes() == 101 * 8 + 10000 * 10);
}

TEST_CASE("an explicit matrix is (n_target, n_source) and zero means no synapse") {
  auto w = base(3, 2, ConnectionRule::Kind::matrix);
  w.rule.matrix = {0.0, 1.0, 2.0,   // target 0 <- sources 1, 2
                   3.0, 0.0, 0.0};  // target 1 <- source 0
  w.weight = Distribution::constant(2.0);
  const auto c = connect(w);
  REQUIRE(c.size() == 3);
  CHECK(c.row == Connectivity::Array<std::uint64_t>{0, 1, 2, 3});
  CHECK(c.target == Connectivity::Array<std::uint32_t>{1, 0, 0});
  CHECK(c.weight == Connectivity::Array<float>{6.0f, 2.0f, 4.0f});
  w.rule.matrix.pop_back();
  CHECK_THROWS_AS(connect(w), WiringError);
}
