// From a trained rate MLP (networks/mlp) to the spiking network of networks/spiking_mlp.hpp:
// which models can run as spikes, and the layers' neurons and weights.
//
// Hidden layers must be lif_rate: their units become the LIF neurons whose rate the
// activation computed. The output layer is only decoded (the argmax of its input current,
// or of its spike counts), so besides lif_rate it may be any strictly increasing function
// of its input, whose argmax is that of the input: identity, logistic, tanh, softsign,
// softplus, leaky_relu, softmax, log_softmax. Its neurons then take the LIF parameters of
// the last hidden layer (or the lif_rate defaults for a one-layer model).
#pragma once

#include <string>
#include <vector>

#include "networks/mlp/network.hpp"
#include "networks/spiking_mlp.hpp"

namespace ranvier::networks {

// Empty if `net` can run as spiking LIF neurons; otherwise which layer and why.
std::string spiking_refusal(const mlp::NetworkSpec& net);

// `settings` with inputs and layers filled from `net` and its flat parameters (the layout
// of mlp::Network). Throws std::invalid_argument with spiking_refusal's message.
SpikingMlpSpec spiking_spec(const mlp::NetworkSpec& net, const std::vector<float>& params,
                            SpikingMlpSpec settings);

}  // namespace ranvier::networks
