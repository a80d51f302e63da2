#pragma once
// Turns a trained Network into the integer model file (docs/model-format.md), and runs the same
// integer network with torch tensors ("hard forward") so that training and every downstream view
// can be held to each other bit for bit.
#include <torch/torch.h>

#include "core/model.hpp"
#include "train/network.hpp"

namespace lutnet::train {

// Folds batch norm and level magnitudes into integer level weights and thresholds
// (DESIGN.md §2). Layers that are not LUT layers export as k = 1 XNOR connections. Requires frozen
// level ratios (Network::freeze_level_ratios).
Model export_model(const Network& network, const InputEncoding& input, const std::string& name,
                   const std::string& metadata_json);

struct HardTrace {
  std::vector<torch::Tensor> accumulators;  // per layer: int64 [B, N]
  std::vector<torch::Tensor> bits;          // per hidden layer: uint8 [B, L, N] (0/1)
  torch::Tensor labels;                     // int64 [B]
};

// The integer network of `model`, evaluated on input bits [B, N0] (0/1, uint8) with tensor ops.
// Tables come from the trained network (binary: sign), thresholds from the exported model.
HardTrace hard_forward(const Network& network, const Model& model, const torch::Tensor& bits);

}  // namespace lutnet::train
