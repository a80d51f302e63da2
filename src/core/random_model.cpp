#include "core/random_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.hpp"
#include "core/input_encoding.hpp"
#include "core/tiling.hpp"

namespace lutnet {

namespace {

// The sign and thresholds of the next output, drawn near the middle of its accumulator range.
void draw_output_thresholds(Layer& layer, int64_t fan_in, std::mt19937_64& rng) {
  if (layer.output == LayerOutput::kArgmax) return;
  int64_t max_acc = 0;
  for (int64_t w : layer.level_weights) max_acc += w * fan_in;
  layer.output_sign.push_back(rng() % 2 ? 1 : -1);
  std::uniform_int_distribution<int64_t> near_middle(max_acc / 4, max_acc - max_acc / 4);
  for (int t = 0; t < layer.thresholds_per_output(); ++t) {
    const int64_t threshold = near_middle(rng);
    layer.thresholds.push_back(layer.output_sign.back() > 0 ? threshold : -threshold);
  }
}

// A tiling with a random tied mask (at least one position per tile output), extra inputs,
// tables and weight bits, lowered into the layer's LUT fields.
void fill_random_tiling(Layer& layer, const RandomModelSpec& spec, std::mt19937_64& rng) {
  Tiling& t = layer.tiling;
  t = Tiling{};
  t.tm = spec.tiling.tm;
  t.tn = spec.tiling.tn;
  t.k = spec.tiling.k;
  t.n = spec.tiling.n;
  t.num_outputs = layer.num_outputs;
  t.num_inputs = layer.num_inputs;
  const int po_count = t.tile_outputs(), pi_count = t.tile_inputs();
  std::uniform_int_distribution<int> any_position(0, pi_count - 1);
  std::bernoulli_distribution keep(spec.keep_fraction);
  std::uniform_int_distribution<uint64_t> any_table;
  const uint64_t table_mask = lut_table_mask(t.k);
  t.mask.assign(size_t(po_count) * pi_count, 0);
  for (int po = 0; po < po_count; ++po) {
    for (int pi = 0; pi < pi_count; ++pi) t.mask[size_t(po) * pi_count + pi] = keep(rng);
    t.mask[size_t(po) * pi_count + any_position(rng)] = 1;
  }
  for (int j = 0; j < (t.k - t.n - 1) * pi_count; ++j)
    t.extra_inputs.push_back(static_cast<uint32_t>(any_position(rng)));
  for (const uint8_t kept : t.mask)
    for (int l = 0; l < layer.input_levels; ++l)
      t.tables.push_back(kept ? any_table(rng) & table_mask : 0);
  for (int o = 0; o < layer.num_outputs; ++o)
    for (int i = 0; i < layer.num_inputs; ++i)
      t.weight_bits.push_back(t.mask[size_t(o % po_count) * pi_count + i % pi_count]
                                  ? static_cast<uint8_t>(rng() % (1u << t.n))
                                  : 0);
  lower_tiling(layer, "random model");
}

// Connections, tables and thresholds of a LUT layer whose shape fields are set.
void fill_random_luts(Layer& layer, const RandomModelSpec& spec, std::mt19937_64& rng) {
  const int inputs = layer.num_inputs;
  const int levels = layer.input_levels;
  for (int l = 0; l < levels; ++l) layer.level_weights.push_back(int64_t{1} << (levels - 1 - l));
  const RandomTilingSpec& tiling = spec.tiling;
  if (tiling.tm > 0 && layer.num_outputs % tiling.tm == 0 && inputs % tiling.tn == 0) {
    fill_random_tiling(layer, spec, rng);
    for (int o = 0; o < layer.num_outputs; ++o)
      draw_output_thresholds(layer, layer.conn_offset[o + 1] - layer.conn_offset[o], rng);
    return;
  }
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
    // Drawn per output, between its connections, so that untiled random models stay as before.
    draw_output_thresholds(layer, fan_in, rng);
  }
}

}  // namespace

Model make_random_model(const RandomModelSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  Model model;
  model.name = "random";
  model.input.shape = spec.input_shape;
  model.input.thresholds = thermometer_thresholds(spec.input_bits_per_pixel);
  model.num_classes = spec.num_classes;
  ActivationShape shape = input_activation_shape(model.input);
  auto add = [&](Layer layer) {
    shape = layer_output_shape(layer, shape);
    model.layers.push_back(std::move(layer));
  };
  for (const RandomConvSpec& conv : spec.convs) {
    Layer layer;
    layer.kind = LayerKind::kLutConv2d;
    layer.kernel_h = conv.kernel_h;
    layer.kernel_w = conv.kernel_w;
    layer.stride = conv.stride;
    layer.num_inputs = shape.channels * conv.kernel_h * conv.kernel_w;
    layer.input_levels = shape.levels;
    layer.num_outputs = conv.out_channels;
    layer.k = spec.k;
    layer.output_levels = spec.levels;
    fill_random_luts(layer, spec, rng);
    add(std::move(layer));
    if (conv.pool_window > 0) {
      Layer pool;
      pool.kind = LayerKind::kMaxPool;
      pool.kernel_h = pool.kernel_w = conv.pool_window;
      pool.stride = conv.pool_stride;
      add(std::move(pool));
    }
  }
  std::vector<int> widths = spec.hidden;
  widths.push_back(spec.num_classes);
  for (size_t li = 0; li < widths.size(); ++li) {
    const bool last = li + 1 == widths.size();
    Layer layer;
    layer.num_inputs = static_cast<int>(shape.plane_bits());
    layer.input_levels = shape.levels;
    layer.num_outputs = widths[li];
    layer.k = spec.k;
    layer.output = last ? LayerOutput::kArgmax : LayerOutput::kResidualSign;
    layer.output_levels = last ? 0 : spec.levels;
    fill_random_luts(layer, spec, rng);
    add(std::move(layer));
  }
  validate(model);
  return model;
}

Model make_probe_model(const Model& model, size_t layers) {
  if (layers < 1 || layers >= model.layers.size())
    throw Error(
        fmt::format("probe after {} layers of a {}-layer model", layers, model.layers.size()));
  Model probe = model;
  probe.layers.resize(layers);
  const ActivationShape shape = infer_shapes(probe).back();
  Layer out;
  out.num_inputs = static_cast<int>(shape.plane_bits());
  out.input_levels = shape.levels;
  out.num_outputs = out.num_inputs;
  out.k = 1;
  out.output = LayerOutput::kArgmax;
  out.output_levels = 0;
  for (int l = 0; l < shape.levels; ++l)
    out.level_weights.push_back(int64_t{1} << (shape.levels - 1 - l));
  for (int o = 0; o <= out.num_outputs; ++o) out.conn_offset.push_back(static_cast<uint32_t>(o));
  for (int o = 0; o < out.num_outputs; ++o) {
    out.lut_inputs.push_back(static_cast<uint32_t>(o));
    for (int l = 0; l < shape.levels; ++l) out.tables.push_back(0b10);  // a wire
  }
  probe.layers.push_back(std::move(out));
  probe.num_classes = probe.layers.back().num_outputs;
  validate(probe);
  return probe;
}

std::vector<uint8_t> make_random_pixels(const Model& model, int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> pixels(static_cast<size_t>(count) * model.input.num_pixels());
  for (auto& p : pixels) p = static_cast<uint8_t>(rng());
  return pixels;
}

}  // namespace lutnet
