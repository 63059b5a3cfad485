#include "sim/population.hpp"

#include "sim/population_factories.hpp"

namespace ranvier::sim {

const char* integrator_name(Integrator i) {
  switch (i) {
    case Integrator::exact:
      return "exact";
    case Integrator::euler:
      return "euler";
    case Integrator::rk4:
      return "rk4";
    case Integrator::dopri5:
      return "dopri5";
    case Integrator::exponential_euler:
      return "exponential_euler";
  }
  return "?";
}

std::unique_ptr<Population> make_population(const PopulationSpec& spec, double dt, int threads) {
  if (spec.model == "lif") return detail::make_lif_population(spec, dt, threads);
  if (spec.model == "hh") return detail::make_hh_population(spec, dt, threads);
  throw SpecError("populations." + spec.name + ".model", "unknown model '" + spec.model + "'");
}

}  // namespace ranvier::sim
