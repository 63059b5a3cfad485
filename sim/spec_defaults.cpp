#include "sim/spec_defaults.hpp"

#include <stdexcept>

#include "models/model_info.hpp"

namespace ranvier::sim {

Integrator integrator_from_name(std::string_view name) {
  if (name == "exact") return Integrator::exact;
  if (name == "euler") return Integrator::euler;
  if (name == "rk4") return Integrator::rk4;
  if (name == "dopri5") return Integrator::dopri5;
  if (name == "exponential_euler") return Integrator::exponential_euler;
  throw std::invalid_argument("unknown integrator '" + std::string(name) + "'");
}

PopulationSpec default_population(std::string name, std::string_view model, std::size_t size) {
  const models::ModelInfo* info = models::find_model(model);
  if (!info) throw std::invalid_argument("unknown model '" + std::string(model) + "'");
  return default_population(std::move(name), model, size,
                            integrator_from_name(info->default_integrator()));
}

PopulationSpec default_population(std::string name, std::string_view model, std::size_t size,
                                  Integrator integrator) {
  const models::ModelInfo* info = models::find_model(model);
  if (!info) throw std::invalid_argument("unknown model '" + std::string(model) + "'");
  PopulationSpec p;
  p.name = std::move(name);
  p.model = std::string(model);
  p.size = size;
  p.integrator = integrator;
  for (const auto& param : info->params)
    p.params[param.name] = std::vector<double>(size, param.default_value);
  return p;
}

}  // namespace ranvier::sim
