// The concrete population kinds, each in its own .cpp; make_population() dispatches.
#pragma once

#include <memory>

#include "sim/population.hpp"

namespace ranvier::sim::detail {

std::unique_ptr<Population> make_lif_population(const PopulationSpec&, double dt, int threads);
std::unique_ptr<Population> make_hh_population(const PopulationSpec&, double dt, int threads);

}  // namespace ranvier::sim::detail
