#include "core/random_model.hpp"

#include <algorithm>
#include <numeric>
#include <random>

#include "core/input_encoding.hpp"

namespace lutnet {

Model make_random_model(const RandomModelSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  Model model;
  model.name = "random";
  model.input.shape = spec.input_shape;
  model.input.thresholds = thermometer_thresholds(spec.input_bits_per_pixel);
  model.num_classes = spec.num_classes;
  std::vector<int> widths = spec.hidden;
  widths.push_back(spec.num_classes);
  int inputs = model.input.num_bits();
  int levels = 1;
  for (size_t li = 0; li < widths.size(); ++li) {
    const bool last = li + 1 == widths.size();
    LutDenseLayer layer;
    layer.num_inputs = inputs;
    layer.input_levels = levels;
    layer.num_outputs = widths[li];
    layer.k = spec.k;
    layer.output = last ? LayerOutput::kArgmax : LayerOutput::kResidualSign;
    layer.output_levels = last ? 0 : spec.levels;
    for (int l = 0; l < levels; ++l) layer.level_weights.push_back(int64_t{1} << (levels - 1 - l));
    layer.conn_offset.push_back(0);
    std::vector<uint32_t> order(inputs);
    std::iota(order.begin(), order.end(), 0u);
    std::uniform_int_distribution<uint32_t> any_input(0, inputs - 1);
    std::uniform_int_distribution<uint64_t> any_table;
    for (int o = 0; o < layer.num_outputs; ++o) {
      std::shuffle(order.begin(), order.end(), rng);
      const int fan_in = std::max(1, static_cast<int>(spec.keep_fraction * inputs));
      for (int c = 0; c < fan_in; ++c) {
        layer.lut_inputs.push_back(order[c]);
        for (int e = 1; e < layer.k; ++e) layer.lut_inputs.push_back(any_input(rng));
        for (int l = 0; l < levels; ++l) layer.tables.push_back(any_table(rng) & layer.table_mask());
      }
      layer.conn_offset.push_back(layer.conn_offset.back() + fan_in);
      if (!last) {
        int64_t max_acc = 0;
        for (int64_t w : layer.level_weights) max_acc += w * fan_in;
        layer.output_sign.push_back(rng() % 2 ? 1 : -1);
        std::uniform_int_distribution<int64_t> near_middle(max_acc / 4, max_acc - max_acc / 4);
        for (int t = 0; t < layer.thresholds_per_output(); ++t) {
          const int64_t threshold = near_middle(rng);
          layer.thresholds.push_back(layer.output_sign.back() > 0 ? threshold : -threshold);
        }
      }
    }
    inputs = layer.num_outputs;
    levels = layer.output_levels;
    model.layers.push_back(std::move(layer));
  }
  validate(model);
  return model;
}

std::vector<uint8_t> make_random_pixels(const Model& model, int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> pixels(static_cast<size_t>(count) * model.input.num_pixels());
  for (auto& p : pixels) p = static_cast<uint8_t>(rng());
  return pixels;
}

}  // namespace lutnet
