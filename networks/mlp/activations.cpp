#include "networks/mlp/activations.hpp"

#include <stdexcept>

namespace ranvier::mlp {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names = {"identity",    "logistic",  "tanh",     "relu",
                                                 "leaky_relu",  "softsign",  "softplus", "softmax",
                                                 "log_softmax", "heaviside", "one_hot"};
  return names;
}

std::string_view activation_name(ActivationKind k) {
  return activation_names()[static_cast<std::size_t>(k)];
}

ActivationKind activation_from_name(std::string_view name) {
  const auto& names = activation_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<ActivationKind>(i);
  throw std::invalid_argument("unknown activation: " + std::string(name));
}

std::string activation_untrainable_reason(ActivationKind k) {
  switch (k) {
    case ActivationKind::heaviside:
      return "its derivative is zero everywhere except at 0, so no gradient reaches the "
             "layers below (use it for inference only, e.g. on a trained logistic network)";
    case ActivationKind::one_hot:
      return "argmax is piecewise constant, so its gradient is zero (use softmax for "
             "training and one_hot for inference)";
    default:
      return {};
  }
}

}  // namespace ranvier::mlp
