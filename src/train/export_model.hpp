#pragma once
// Turns a trained Network into the integer model file (docs/model-format.md), and runs the same
// integer network with torch tensors ("hard forward") so that training and every downstream view
// can be held to each other bit for bit.
#include <torch/torch.h>

#include "core/model.hpp"
#include "train/network.hpp"

namespace lutnet::train {

// Folds batch norm and level magnitudes into integer level weights and thresholds
// (DESIGN.md §2), per output neuron or, for conv layers, per output channel. Layers that are not
// LUT layers export as k = 1 XNOR connections. A conv layer exports as lut_conv2d, followed by a
// max_pool layer when it pools; pooling requires positive, non-increasing level magnitudes
// (m1 <= m0) and is refused otherwise. Requires frozen level ratios
// (Network::freeze_level_ratios).
Model export_model(const Network& network, const InputEncoding& input, const std::string& name,
                   const std::string& metadata_json);

// Entries follow the model's layers, in the reference evaluator's orders (LayerTrace).
struct HardTrace {
  // Per layer: int64 [B, N] (conv: [B, Cout * P], channel-major); undefined for max_pool.
  std::vector<torch::Tensor> accumulators;
  // Per layer but the last: uint8 [B, L, N] (0/1), each plane in its ActivationShape order.
  std::vector<torch::Tensor> bits;
  torch::Tensor labels;  // int64 [B]
};

// The integer network of `model`, evaluated on input bits [B, N0] (0/1, uint8) with integer tensor
// ops (window gathers, table lookups, threshold trees, max over codes), independently of the
// reference evaluator. Tables come from the trained network (binary: sign), thresholds from the
// exported model.
HardTrace hard_forward(const Network& network, const Model& model, const torch::Tensor& bits);

}  // namespace lutnet::train
