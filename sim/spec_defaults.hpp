// Building specs in code (tests, benchmarks, sweeps) the way a config would: a
// population with every parameter at its registry default, so no caller repeats the
// registry walk and none can forget a parameter.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "sim/spec.hpp"

namespace ranvier::sim {

// The integrator named as in configs ("exact", "rk4", ...); throws std::invalid_argument
// for another name.
Integrator integrator_from_name(std::string_view name);

// `size` neurons of `model` (a name from models::model_registry()), every parameter at
// its default, with the model's default integrator unless one is given.
PopulationSpec default_population(std::string name, std::string_view model, std::size_t size);
PopulationSpec default_population(std::string name, std::string_view model, std::size_t size,
                                  Integrator integrator);

}  // namespace ranvier::sim
