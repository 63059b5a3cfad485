#include "networks/spiking_conversion.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace ranvier::networks {

using mlp::ActivationKind;

std::string spiking_refusal(const mlp::NetworkSpec& net) {
  const int L = static_cast<int>(net.layers.size());
  for (int l = 0; l < L; ++l) {
    const ActivationKind k = net.layers[l].activation.kind;
    const std::string name(mlp::activation_name(k));
    if (l < L - 1) {
      if (k != ActivationKind::lif_rate)
        return fmt::format(
            "layer {} ({} units, hidden) has activation {}: a hidden layer runs as spiking LIF "
            "neurons only if it was trained with their rate curve (activation: lif_rate); {} "
            "has no LIF neuron that realises it. Retrain with lif_rate hidden layers "
            "(configs/fmnist_lif.yaml)",
            l, net.layers[l].units, name, name);
      continue;
    }
    switch (k) {
      case ActivationKind::lif_rate:
      case ActivationKind::identity:
      case ActivationKind::logistic:
      case ActivationKind::tanh:
      case ActivationKind::softsign:
      case ActivationKind::softplus:
      case ActivationKind::leaky_relu:
      case ActivationKind::softmax:
      case ActivationKind::log_softmax:
        break;
      default:
        return fmt::format(
            "layer {} (the output layer) has activation {}: the spiking network decodes the "
            "class as the argmax of the output layer's input, which equals the rate "
            "network's only for lif_rate or a strictly increasing activation (identity, "
            "softmax, log_softmax, logistic, tanh, ...); {} is not strictly increasing",
            l, name, name);
    }
  }
  return {};
}

SpikingMlpSpec spiking_spec(const mlp::NetworkSpec& net, const std::vector<float>& params,
                            SpikingMlpSpec s) {
  if (const std::string why = spiking_refusal(net); !why.empty()) throw std::invalid_argument(why);
  s.inputs = net.inputs;
  s.layers.clear();
  std::size_t offset = 0;
  int n_in = net.inputs;
  mlp::Activation neuron;  // lif_rate defaults, for a one-layer model's output
  neuron.kind = ActivationKind::lif_rate;
  for (const mlp::LayerSpec& ls : net.layers) {
    const int n_out = ls.units;
    if (offset + static_cast<std::size_t>(n_out) * (n_in + 1) > params.size())
      throw std::invalid_argument("the parameters are fewer than the layers need");
    SpikingLayer L;
    L.W = Eigen::Map<const Eigen::MatrixXf>(params.data() + offset, n_out, n_in).cast<double>();
    offset += static_cast<std::size_t>(n_out) * n_in;
    L.b = Eigen::Map<const Eigen::VectorXf>(params.data() + offset, n_out).cast<double>();
    offset += static_cast<std::size_t>(n_out);
    if (ls.activation.kind == ActivationKind::lif_rate) neuron = ls.activation;
    L.tau_m = neuron.tau_m;
    L.tau_ref = neuron.tau_ref;
    L.threshold = neuron.threshold;
    L.amplitude = neuron.amplitude;
    s.layers.push_back(std::move(L));
    n_in = n_out;
  }
  return s;
}

}  // namespace ranvier::networks
