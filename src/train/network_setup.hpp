#pragma once
// The network a training config describes, and the training view of its input.
#include <torch/torch.h>

#include "core/model.hpp"
#include "data/dataset.hpp"
#include "train/config.hpp"
#include "train/network.hpp"

namespace lutnet::train {

// The network a config describes for an input encoding (conv layers see the encoded image as
// C*T x H x W planes) and a number of classes, initialised from the config's seed.
Network make_network(const TrainConfig& config, const InputEncoding& encoding, int64_t num_classes);
// Logic expansion of the config's LUT layers (tiled layers with its tiled K and N).
void expand_lut_layers(Network& net, const TrainConfig& config);

// Encodes images to +-1 floats [N, bits] (the training view of the model's input encoding).
torch::Tensor encode_images(const Dataset& data, const InputEncoding& encoding);

}  // namespace lutnet::train
