#include "train/network_setup.hpp"

#include <fmt/format.h>

#include <vector>

#include "core/error.hpp"
#include "core/input_encoding.hpp"

namespace lutnet::train {

namespace {

Network make_untiled_network(const TrainConfig& config, const InputEncoding& encoding,
                             int64_t num_classes) {
  if (config.conv.empty())
    return Network(encoding.num_bits(), config.hidden, num_classes, config.levels, config.seed);
  if (encoding.shape.size() < 2 || encoding.shape.size() > 3)
    throw Error(
        fmt::format("config: conv layers need images (C x H x W); the {} data has a {}-D "
                    "shape",
                    config.dataset, encoding.shape.size()));
  const ActivationShape in = input_activation_shape(encoding);
  NetworkShape shape;
  shape.input_channels = in.channels;
  shape.input_height = in.height;
  shape.input_width = in.width;
  shape.input_group = in.group;
  shape.conv = config.conv;
  shape.hidden = config.hidden;
  shape.num_classes = num_classes;
  shape.levels = config.levels;
  return Network(shape, config.seed);
}

}  // namespace

void expand_lut_layers(Network& net, const TrainConfig& config) {
  const auto lut_mask = lut_layer_mask(config);
  for (size_t i = 0; i < net.layers().size(); ++i) {
    if (!lut_mask[i]) continue;
    if (net.layers()[i].tiled())
      net.expand_tiled_to_luts(i, config.tiled_k, config.tiled_n, config.seed);
    else
      net.expand_to_luts(i, config.k, config.pruning_recovery, config.seed);
    if (config.input_selection == "learned" && !net.layers()[i].tiled())
      net.learn_input_selection(i, config.seed);
  }
}

Network make_network(const TrainConfig& config, const InputEncoding& encoding,
                     int64_t num_classes) {
  Network net = make_untiled_network(config, encoding, num_classes);
  const std::vector<TileSpec> tiles = tile_specs(config);
  for (size_t i = 0; i < tiles.size(); ++i) net.set_tiles(i, tiles[i]);
  return net;
}

torch::Tensor encode_images(const Dataset& data, const InputEncoding& encoding) {
  const int64_t bits = encoding.num_bits();
  auto out = torch::empty({static_cast<int64_t>(data.size()), bits});
  std::vector<uint8_t> buffer(bits);
  float* o = out.data_ptr<float>();
  for (size_t i = 0; i < data.size(); ++i) {
    encode_input(encoding, data.image(i), buffer.data());
    for (int64_t b = 0; b < bits; ++b) o[i * bits + b] = buffer[b] ? 1.0f : -1.0f;
  }
  return out;
}

}  // namespace lutnet::train
