#include "networks/mlp/activations.hpp"

#include <stdexcept>

namespace ranvier::mlp {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names = {
      "identity", "logistic", "tanh",        "relu",      "leaky_relu", "softsign",
      "softplus", "softmax",  "log_softmax", "heaviside", "one_hot",    "lif_rate"};
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

models::LifRateParams lif_params(const Activation& a) {
  models::LifRateParams p;
  p.V_L = 0.0;
  p.V_reset = 0.0;
  p.R = 1.0;
  p.V_th = a.threshold;
  p.tau_m = a.tau_m;
  p.tau_ref = a.tau_ref;
  return p;
}

std::string lif_rate_problem(const Activation& a) {
  // Written as !(x > 0) so that NaN is refused too.
  if (!(a.tau_m > 0)) return "tau_m must be positive (ms)";
  if (!(a.tau_ref >= 0)) return "tau_ref must be zero or positive (ms)";
  if (!(a.threshold > 0)) return "threshold must be positive (the rest and reset potential is 0)";
  if (!(a.amplitude > 0)) return "amplitude must be positive (output per Hz)";
  if (!(a.smoothing >= 0)) return "smoothing must be zero or positive (0: hard LIF in training)";
  if (!(a.noise >= 0)) return "noise must be zero or positive (a standard deviation)";
  return {};
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
